//! One writer per archive: a second daemon on a SQLite archive refuses to start (exit 2, naming
//! the holder); on PostgreSQL a second daemon waits for a stream the first runs, never connects
//! it beside the first nor marks the first's rows as `crash`, and takes it over once it stops.

mod common;

use common::TestDb;
use common::daemon::*;
use std::time::Duration;

const PATH: &str = "/1.1/statuses/filter.json";

fn open_rows(rows: &[ConnRow]) -> usize {
    rows.iter().filter(|r| r.ended_at.is_none()).count()
}

fn crashed(rows: &[ConnRow]) -> usize {
    rows.iter()
        .filter(|r| r.end_reason.as_deref() == Some("crash"))
        .count()
}

async fn wait_connected(db: &TestDb, name: &str) {
    wait_until(
        "the first daemon connects",
        Duration::from_secs(20),
        || async { connections(db, name).await.iter().any(|r| r.connected) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_a_sqlite_archive_refuses_to_start() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("clean"), 200.0).await;
    let streams = [stream("live", &sim, PATH, "clean")];
    let first = Daemon::start(&db, &streams, 0.01);
    wait_connected(&db, "live").await;

    let second = Daemon::start(&db, &streams, 0.01);
    let exit = second.exit(Duration::from_secs(10));
    assert_eq!(exit.code, Some(2), "{}", exit.log);
    assert!(exit.log.contains("one writer per archive"), "{}", exit.log);
    assert!(
        exit.log.contains(&format!("pid {} on host ", first.pid())),
        "the holder is named: {}",
        exit.log
    );
    // A replay would write beside the daemon too: refused the same way.
    let input = db.dir.path().join("one.jsonl");
    std::fs::write(&input, common::tweet(common::BIG, 7, "replayed")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["--database", &db.url, "replay"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one writer per archive"));

    // Reading beside the daemon works: query takes no lock and reads through the WAL.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args([
            "--database",
            &db.url,
            "query",
            "SELECT COUNT(*) AS n FROM connections",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1 row)"));
    let rows = connections(&db, "live").await;
    assert_eq!(
        rows.len(),
        1,
        "the second daemon opened no connection: {rows:?}"
    );
    assert_eq!(open_rows(&rows), 1, "the first's connection is still live");
    assert_eq!(crashed(&rows), 0);
    let exit = first.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    // Once the first is gone, the archive is free again (the kernel dropped the lock).
    let third = Daemon::start(&db, &streams, 0.01);
    wait_until(
        "a third daemon connects",
        Duration::from_secs(20),
        || async { connections(&db, "live").await.len() == 2 },
    )
    .await;
    assert_eq!(third.stop(Duration::from_secs(15)).code, Some(0));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_postgres_waits_for_the_stream_and_takes_it_over() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = simulator(builtin("clean"), 200.0).await;
    let streams = [stream("live", &sim, PATH, "clean")];
    let first = Daemon::start(&db, &streams, 0.01);
    wait_connected(&db, "live").await;

    let mut second = Daemon::start(&db, &streams, 0.01);
    wait_until(
        "the second daemon waits",
        Duration::from_secs(20),
        || async {
            second
                .log_text()
                .contains("another daemon runs this stream")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(second.running(), "it waits rather than exits");
    let log = second.log_text();
    assert!(
        log.contains(&format!("streamvault pid {} on ", first.pid())),
        "the holder is named: {log}"
    );
    assert_eq!(
        log.matches("another daemon runs this stream").count(),
        1,
        "logged once"
    );
    let rows = connections(&db, "live").await;
    assert_eq!(
        rows.len(),
        1,
        "the second did not connect the stream: {rows:?}"
    );
    assert_eq!(open_rows(&rows), 1, "the first's connection is still live");
    assert_eq!(crashed(&rows), 0, "nor was it marked crash: {rows:?}");

    let exit = first.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    wait_until(
        "the second takes the stream over",
        Duration::from_secs(20),
        || async {
            let rows = connections(&db, "live").await;
            rows.len() == 2 && rows[1].connected
        },
    )
    .await;
    let rows = connections(&db, "live").await;
    assert_eq!(rows[0].end_reason.as_deref(), Some("shutdown"), "{rows:?}");
    assert!(second.log_text().contains("stream claimed"));

    // A reload that restarts the stream lets go of it and claims it again at once.
    let mut changed = stream("live", &sim, PATH, "clean");
    changed.extra = "params = { track = \"changed\" }".into();
    second.reload(&db, &[changed], 0.01);
    wait_until("the stream restarts", Duration::from_secs(20), || async {
        let rows = connections(&db, "live").await;
        rows.len() == 3 && rows[2].connected
    })
    .await;
    let rows = connections(&db, "live").await;
    assert_eq!(rows[1].end_reason.as_deref(), Some("reload"), "{rows:?}");
    assert_eq!(
        second
            .log_text()
            .matches("another daemon runs this stream")
            .count(),
        1,
        "the daemon never waits for itself"
    );
    let exit = second.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_killed_holder_frees_its_stream_and_its_row_is_closed_as_crash() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = simulator(builtin("clean"), 200.0).await;
    let streams = [stream("live", &sim, PATH, "clean")];
    let first = Daemon::start(&db, &streams, 0.01);
    wait_connected(&db, "live").await;
    let second = Daemon::start(&db, &streams, 0.01);
    wait_until(
        "the second daemon waits",
        Duration::from_secs(20),
        || async {
            second
                .log_text()
                .contains("another daemon runs this stream")
        },
    )
    .await;
    drop(first); // SIGKILL: its sessions end, and with them its claim
    wait_until(
        "the second takes the stream over",
        Duration::from_secs(20),
        || async {
            let rows = connections(&db, "live").await;
            rows.len() == 2 && rows[1].connected
        },
    )
    .await;
    let rows = connections(&db, "live").await;
    assert_eq!(
        rows[0].end_reason.as_deref(),
        Some("crash"),
        "the new holder closes the dead one's row: {rows:?}"
    );
    assert_eq!(open_rows(&rows), 1);
    let exit = second.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}
