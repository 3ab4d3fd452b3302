//! What an operator relies on: systemd notifications, SIGHUP with a bad or changed config,
//! SIGUSR1 statistics (the metrics endpoint is tests/metrics.rs).

mod common;

use common::TestDb;
use common::daemon::*;
use std::time::Duration;

const PATH: &str = "/1.1/statuses/filter.json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_status_watchdog_and_stopping() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("finite"), 2000.0).await;
    let socket_path = db.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let daemon = Daemon::start_with(
        &db,
        &[stream("main", &sim, PATH, "finite")],
        0.01,
        "",
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut heard = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline
        && heard
            .iter()
            .filter(|m: &&String| m.contains("WATCHDOG=1"))
            .count()
            < 2
    {
        if let Ok(n) = socket.recv(&mut buf) {
            heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    while let Ok(n) = socket.recv(&mut buf) {
        heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(heard[0].contains("READY=1"), "{heard:?}");
    assert!(heard[0].contains("STATUS="), "{heard:?}");
    assert!(
        heard.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 2,
        "{heard:?}"
    );
    assert!(
        heard.iter().any(|m| m.contains("streams connected")),
        "{heard:?}"
    );
    assert!(heard.last().unwrap().contains("STOPPING=1"), "{heard:?}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_refuses_a_bad_config_and_restarts_a_changed_stream() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("clean"), 500.0).await;
    let first = stream("main", &sim, "/a/stream.json", "clean");
    let daemon = Daemon::start(&db, std::slice::from_ref(&first), 0.01);
    wait_until("events flow", Duration::from_secs(20), || {
        let db = &db;
        async move { db.count("events").await >= 50 }
    })
    .await;
    // An invalid config is refused; the daemon keeps running on the old one.
    daemon.reload_text("[database]\nbatch_size = 0\n");
    wait_until("the refusal is logged", Duration::from_secs(10), || {
        let log = daemon.log_text();
        async move { log.contains("reload refused") }
    })
    .await;
    assert!(daemon.log_text().contains("database.batch_size"));
    let before = db.count("events").await;
    wait_until("events still flow", Duration::from_secs(10), || {
        let db = &db;
        async move { db.count("events").await > before + 50 }
    })
    .await;
    assert_eq!(connections(&db, "main").await.len(), 1, "not restarted");
    // A changed stream is restarted with its new settings.
    let second = stream("main", &sim, "/b/stream.json", "clean");
    daemon.reload(&db, &[second], 0.01);
    wait_until(
        "the new connection delivers",
        Duration::from_secs(20),
        || {
            let stats = sim.stats();
            async move { sent_on(&stats, "/b/stream.json") >= 20 }
        },
    )
    .await;
    daemon.signal("USR1");
    wait_until("statistics logged", Duration::from_secs(10), || {
        let log = daemon.log_text();
        async move { log.contains("stream statistics") }
    })
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let rows = connections(&db, "main").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].end_reason.as_deref(), Some("reload"));
    assert_eq!(rows[1].end_reason.as_deref(), Some("shutdown"));
    db.cleanup().await;
}

#[test]
fn a_bad_metrics_address_or_topic_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    for (text, key) in [
        ("[metrics]\nlisten = \"nowhere\"\n", "metrics.listen"),
        (
            "[[stream]]\nname = \"l\"\nfamily = \"topics\"\nurl = \"http://127.0.0.1:1/e\"\nupdate_url = \"http://127.0.0.1:1/u\"\ntopics = [\"/tweet_engagement/x1\"]\n",
            "stream[0].topics[0]",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .args(["run", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .env_remove("STREAMVAULT__DATABASE__URL")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{err}");
    }
}

/// Datagrams the socket receives within `within`.
fn listen(socket: &std::os::unix::net::UnixDatagram, within: Duration) -> Vec<String> {
    let mut heard = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    heard
}

/// The watchdog follows the writer: while another process holds the archive's write lock, the
/// writer cannot commit what keeps arriving and the pings stop (STATUS says why); once the
/// lock is gone they resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_blocked_by_a_lock_stops_the_watchdog_pings() {
    use sqlx::Connection;
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("clean"), 500.0).await;
    let socket_path = db.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // Without a spool: with one, a blocked database is not a stuck writer (it spools, and
    // that is progress the watchdog sees).
    let daemon = Daemon::start_with(
        &db,
        &[stream("main", &sim, PATH, "clean")],
        0.01,
        "[spool]\nenabled = false\n",
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let pings = |heard: &[String]| heard.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    let before = listen(&socket, Duration::from_secs(2));
    assert!(pings(&before) >= 3, "{before:?}");

    let mut lock = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .unwrap();
    let _settling = listen(&socket, Duration::from_secs(1));
    let locked = listen(&socket, Duration::from_secs(2));
    assert_eq!(
        pings(&locked),
        0,
        "pinged while the writer was blocked: {locked:?}"
    );
    assert!(
        locked.iter().any(|m| m.contains("writer stuck for")),
        "{locked:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    let after = listen(&socket, Duration::from_secs(3));
    assert!(
        pings(&after) >= 3,
        "no pings after the lock went: {after:?}"
    );

    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}
