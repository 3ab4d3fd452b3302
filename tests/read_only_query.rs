//! `streamvault query` only reads: one statement, no write, no migration, no new archive — on
//! both backends, while the archive is open for writing as a running daemon holds it.

mod common;

use common::{BIG, tweet};
use std::process::{Command, Output};
use streamvault::query::{QueryError, read_only};

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

both_backends!(
    one_reading_statement_sees_what_the_writer_committed,
    |db| async {
        // The archive stays open for writing (as a running daemon holds it) while query reads.
        db.replay_lines(&[&tweet(BIG, 7, "one"), &tweet(BIG + 1, 7, "two")])
            .await;
        let table = read_only(&db.url, "SELECT COUNT(*) AS n FROM tweets")
            .await
            .unwrap();
        assert_eq!(table.columns, ["n"]);
        assert_eq!(table.rows, [[Some("2".to_owned())]]);
        db.replay_lines(&[&tweet(BIG + 2, 7, "three")]).await;
        let table = read_only(&db.url, "SELECT COUNT(*) FROM tweets")
            .await
            .unwrap();
        assert_eq!(
            table.rows,
            [[Some("3".to_owned())]],
            "a later commit is seen"
        );
    }
);

both_backends!(writes_and_second_statements_are_refused, |db| async {
    db.replay_lines(&[&tweet(BIG, 7, "kept")]).await;
    let err = read_only(&db.url, "SELECT 1; DROP TABLE rejects")
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::MultipleStatements), "{err}");
    assert!(
        err.to_string().contains("exactly one SQL statement"),
        "{err}"
    );
    let err = read_only(&db.url, "DELETE FROM tweets").await.unwrap_err();
    assert!(matches!(err, QueryError::ReadOnly(_)), "{err}");
    assert!(err.to_string().contains("only reads the archive"), "{err}");
    for sql in [
        "CREATE TABLE scratch (x INTEGER)",
        "UPDATE rejects SET reason = reason",
        "UPDATE tweets SET text = 'changed'",
        "DROP TABLE rejects",
    ] {
        let err = read_only(&db.url, sql).await.unwrap_err();
        assert!(matches!(err, QueryError::ReadOnly(_)), "{sql}: {err}");
    }
    assert_eq!(db.count("tweets").await, 1);
    assert_eq!(
        db.count("rejects").await,
        0,
        "the rejects table is still there"
    );
});

#[test]
fn a_mistyped_path_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(
        &["--database", "sqlite://no-such.db", "query", "SELECT 1"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no archive at"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file created"
    );
}

#[test]
fn query_never_migrates_and_refuses_writes_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    plain_sqlite_file(&path);
    let url = format!("sqlite://{}", path.display());
    let out = streamvault(
        &["--database", &url, "query", "SELECT x FROM t"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1 row)"));
    let out = streamvault(&["--database", &url, "query", "DELETE FROM t"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("would write"), "{}", stderr(&out));
    let out = streamvault(
        &[
            "--database",
            &url,
            "query",
            "SELECT name FROM sqlite_master",
        ],
        dir.path(),
    );
    let tables = String::from_utf8_lossy(&out.stdout);
    assert!(
        !tables.contains("_sqlx_migrations"),
        "not migrated: {tables}"
    );
    assert!(tables.contains("(1 row)"), "{tables}");
}

/// A SQLite file that is not (yet) an archive: one table, no migrations.
fn plain_sqlite_file(path: &std::path::Path) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t(x)")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    });
}
