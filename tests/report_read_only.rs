//! `streamvault report` only reads: it never creates, migrates or writes the archive, and it
//! refuses a schema other than this binary's (exit 2, naming `streamvault migrate`), on both
//! backends.

mod common;

use common::migrations::sqlite_archive_before;
use common::{BIG, TestDb, tweet};
use std::process::{Command, Output};
use streamvault::store::{Backend, ReadOpenError, open_read_only};

fn streamvault(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(args)
        .current_dir(dir)
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `report --format json` of the archive at `url`.
fn report(url: &str, dir: &std::path::Path) -> Output {
    streamvault(&["--database", url, "report", "--format", "json"], dir)
}

/// The events total of a JSON report.
fn events_total(out: &Output) -> i64 {
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
    json["totals"]["events"].as_i64().unwrap()
}

/// Runs one statement that writes, on the test's own (writable) connection.
async fn execute(db: &TestDb, sql: &str) {
    match &db.backend {
        Backend::Sqlite(s) => sqlx::query(sql).execute(s.pool()).await.map(|_| ()),
        Backend::Postgres(s) => sqlx::query(sql).execute(s.pool()).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Files in `dir`, sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_missing_archive_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = report("sqlite://no-such.db", dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no archive at"), "{}", stderr(&out));
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

both_backends!(
    a_current_archive_is_reported_beside_its_writer,
    |db| async {
        db.replay_lines(&[&tweet(BIG, 7, "one"), &tweet(BIG + 1, 7, "two")])
            .await;
        // The test's store stays open, as a running daemon's would.
        let out = report(&db.url, db.dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(events_total(&out), 2);
    }
);

both_backends!(the_opened_archive_refuses_writes, |db| async {
    db.replay_lines(&[&tweet(BIG, 7, "kept")]).await;
    let archive = open_read_only(&db.url).await.unwrap();
    let refused = match archive.backend() {
        Backend::Sqlite(s) => sqlx::query("DELETE FROM tweets")
            .execute(s.pool())
            .await
            .map(|_| ()),
        Backend::Postgres(s) => sqlx::query("DELETE FROM tweets")
            .execute(s.pool())
            .await
            .map(|_| ()),
    };
    let err = refused.expect_err("a write through the report's connection");
    assert!(err.to_string().contains("read"), "{err}");
    archive.close().await;
    assert_eq!(db.count("tweets").await, 1);
});

both_backends!(
    a_schema_behind_this_binary_is_refused_and_left_as_it_is,
    |db| async {
        let migrations = "_sqlx_migrations";
        execute(
        &db,
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
        let before = db.count(migrations).await;
        let out = report(&db.url, db.dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("run `streamvault migrate` first"),
            "{}",
            stderr(&out)
        );
        assert_eq!(db.count(migrations).await, before, "not migrated");
    }
);

both_backends!(a_schema_newer_than_this_binary_is_refused, |db| async {
    execute(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 9999, 'from a later release', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = 1",
    )
    .await;
    let err = open_read_only(&db.url).await.unwrap_err();
    assert!(
        matches!(err, ReadOpenError::Ahead { version: 9999 }),
        "{err}"
    );
    let out = report(&db.url, db.dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("newer"), "{}", stderr(&out));
});

/// An archive left by an older release (migrated up to 0006), closed: refused, and neither
/// migrated nor touched (no byte of the file changes, no `-wal`, `-shm` or journal appears).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_releases_archive_is_not_migrated_or_touched() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, url) = sqlite_archive_before(dir.path(), "0007").await;
    pool.close().await;
    let path = dir.path().join("archive.db");
    let (bytes, listing) = (std::fs::read(&path).unwrap(), files(dir.path()));
    let out = report(&url, dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("at migration 6, without 7"),
        "{}",
        stderr(&out)
    );
    assert_eq!(files(dir.path()), listing);
    assert!(std::fs::read(&path).unwrap() == bytes, "the file changed");
}

/// A current SQLite archive closed cleanly (no `-wal`) is read without leaving any file
/// behind: a `-wal` or `-shm` owned by the report's user would lock out a daemon running as
/// another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_sqlite_archive_is_read_without_leaving_files() {
    let db = TestDb::sqlite().await;
    db.replay_lines(&[&tweet(BIG, 7, "one")]).await;
    db.backend.close().await;
    // The store's last connection (its checkpoint thread's) may close a moment after `close`
    // returns on a loaded machine; the last one to close removes the WAL.
    let wal = db.dir.path().join("archive.db-wal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while wal.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if wal.exists() {
        // Still there (a connection of the store's outlived `close`): fold it in from a
        // connection of our own, whose close then removes it, as a daemon's stop would.
        let pool = common::sqlite_inspect::sqlite_pool(&db.dir.path().join("archive.db")).await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let path = db.dir.path().join("archive.db");
    let (bytes, listing) = (std::fs::read(&path).unwrap(), files(db.dir.path()));
    assert!(!listing.iter().any(|f| f.ends_with("-wal")), "{listing:?}");
    let out = report(&db.url, db.dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(events_total(&out), 1);
    assert_eq!(files(db.dir.path()), listing);
    assert!(std::fs::read(&path).unwrap() == bytes, "the file changed");
    // Read as immutable; a writer that starts meanwhile makes what was read stale, so `report`
    // reads again.
    let archive = open_read_only(&db.url).await.unwrap();
    assert!(!archive.went_stale());
    let writer = streamvault::cli::open_migrated(&db.url).await.unwrap();
    assert!(archive.went_stale());
    archive.close().await;
    let again = open_read_only(&db.url).await.unwrap();
    assert!(!again.went_stale(), "read through the WAL now");
    again.close().await;
    writer.close().await;
}
