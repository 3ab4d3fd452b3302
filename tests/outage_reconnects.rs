//! Reconnects during a database outage longer than `database.retry_for_secs` (issue 17): the
//! connection log travels through the writer with the records, so a stream that the server
//! disconnects again and again while the database cannot take writes reconnects at once, reads
//! on into the spool, and never ends the daemon. On both backends (PostgreSQL refused by a TCP
//! proxy; SQLite's write lock held by this test process):
//!
//! - [`reconnects_during_a_long_outage_lose_nothing`]: the simulator disconnects the client
//!   (code 12) after every 800 lines, five times while the database is out for longer than the
//!   retry budget (3 s): the daemon keeps running; once the database is back every connection
//!   row is complete (started, ended, end reason, the disconnect code) and its messages equal
//!   what is archived under its id, every disconnect message is a `disconnects` row of the
//!   connection that read it, archived = sent with no duplicate, the spool is empty;
//! - [`term_while_reconnecting_during_an_outage_then_the_next_start_drains`]: SIGTERM in such an
//!   outage exits 0 within `daemon.shutdown_timeout_secs`; every line read is archived or
//!   spooled; the next start drains the spool, and the archive ends as complete as above.
//!
//! Figures are printed (`cargo nextest run --test outage_reconnects --no-capture`).

mod common;

use common::TestDb;
use common::daemon::{ConnRow, connections, scenario_toml, simulator, stream, wait_until};
use common::fault::Fault;
use common::logs::tail;
use common::process::{Proc, ProcConfig};
use std::path::Path;
use std::time::{Duration, Instant};
use streamvault::record::Record;
use streamvault::spool::{Spool, SpoolConfig};

const PATH: &str = "/1.1/statuses/filter.json";
/// Lines of each connection before the simulator disconnects it.
const PER_CONNECTION: u64 = 800;
/// Connections the simulator disconnects; the one after them idles.
const DISCONNECTS: u64 = 6;
const RETRY_FOR_SECS: u64 = 3;

async fn archived(db: &TestDb) -> i64 {
    db.int("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)")
        .await
}

async fn archived_on(db: &TestDb, id: i64) -> i64 {
    db.int(&format!(
        "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {id}) + \
         (SELECT COUNT(*) FROM rejects WHERE connection_id = {id})"
    ))
    .await
}

/// Lines read (messages and rejects) the spool holds, read without committing them.
fn spooled(dir: &Path) -> usize {
    let mut spool = Spool::open(SpoolConfig::new(dir), Default::default()).unwrap();
    let mut n = 0;
    while spool.has_unread() {
        let (records, _) = spool.read_batch(10_000, 64 << 20).unwrap();
        n += records
            .iter()
            .filter(|r| !matches!(r, Record::Connection(_)))
            .count();
    }
    n
}

fn segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
                .count()
        })
        .unwrap_or(0)
}

/// A daemon whose stream the simulator disconnects [`DISCONNECTS`] times, [`PER_CONNECTION`]
/// lines apart, at 1000 lines/s; its spool in `work/spool`, retry budget [`RETRY_FOR_SECS`].
async fn setup(
    work: &Path,
    db_url: &str,
    extra: &str,
) -> (streamvault::simulate::Simulator, ProcConfig) {
    let mut scenario = "name = \"flappy\"\nrate = 1000.0\n".to_owned();
    for _ in 0..DISCONNECTS {
        scenario.push_str(&format!(
            "[[connection]]\nsteps = [{{ send = {PER_CONNECTION} }}, {{ disconnect = 12, reason = \"shed load\" }}]\n"
        ));
    }
    scenario.push_str(&format!(
        "[[connection]]\nsteps = [{{ send = {PER_CONNECTION} }}, {{ idle = \"forever\" }}]\n"
    ));
    let sim = simulator(scenario_toml(work, &scenario), 1000.0).await;
    let mut spec = stream("main", &sim, PATH, "flappy");
    spec.url = format!("http://{}{PATH}", sim.addr());
    let mut config = ProcConfig::new(db_url, vec![spec]);
    config.retry_for_secs = RETRY_FOR_SECS;
    config.extra = format!(
        "\n[spool]\ndir = {:?}\n{extra}",
        work.join("spool").display().to_string()
    );
    (sim, config)
}

/// Waits until the simulator has answered `n` connection requests.
async fn connections_served(sim: &streamvault::simulate::Simulator, n: u64, within: Duration) {
    wait_until(&format!("{n} connections served"), within, || {
        let c = sim.stats().totals.connections;
        async move { c >= n }
    })
    .await;
}

/// The archive after everything was drained: complete rows, each agreeing with its records,
/// and every disconnect message a row of the connection that read it; the rows, printed.
async fn check_archive(db: &TestDb, sent: u64) -> Vec<ConnRow> {
    let total = archived(db).await;
    let dups = db
        .int("SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM events WHERE kind = 'tweet'")
        .await;
    let rows = connections(db, "main").await;
    for row in &rows {
        let got = archived_on(db, row.id).await;
        println!(
            "  connection {}: {:?} ended {:?} code {:?}, {} messages, {got} archived",
            row.id, row.started_at, row.end_reason, row.disconnect_code, row.messages
        );
        assert!(row.ended_at.is_some(), "connection {} has no end", row.id);
        assert!(
            row.end_reason.is_some(),
            "connection {} has no end reason",
            row.id
        );
        assert_eq!(row.messages, got, "connection {}: read vs archived", row.id);
    }
    let ordered = rows.windows(2).all(|w| w[0].started_at <= w[1].started_at);
    assert!(ordered, "connection ids follow the attempts' order");
    let disconnected: Vec<i64> = rows
        .iter()
        .filter(|r| r.end_reason.as_deref() == Some("disconnect_message"))
        .map(|r| r.id)
        .collect();
    assert_eq!(disconnected.len() as u64, DISCONNECTS, "{disconnected:?}");
    for id in &disconnected {
        let row = rows.iter().find(|r| r.id == *id).unwrap();
        assert_eq!(row.disconnect_code, Some(12));
        let n = db
            .int(&format!(
                "SELECT COUNT(*) FROM disconnects WHERE connection_id = {id} AND code = 12"
            ))
            .await;
        assert_eq!(
            n, 1,
            "the disconnect of connection {id} is recorded under it"
        );
    }
    let all = db.int("SELECT COUNT(*) FROM disconnects").await;
    assert_eq!(all as u64, DISCONNECTS, "every disconnect message, once");
    assert_eq!(dups, 0, "no status archived twice");
    assert_eq!(total, sent as i64, "archived = sent");
    rows
}

both_backends!(reconnects_long_outage, |db| {
    reconnects_during_a_long_outage_lose_nothing(&db)
});

async fn reconnects_during_a_long_outage_lose_nothing(db: &TestDb) {
    let work = tempfile::tempdir().unwrap();
    let spool_dir = work.path().join("spool");
    let (mut fault, url) = Fault::new(&db.url).await;
    let (sim, config) = setup(work.path(), &url, "").await;
    let mut daemon = Proc::start(work.path(), &config);
    wait_until(
        "200 events archived",
        Duration::from_secs(30),
        || async move { archived(db).await >= 200 },
    )
    .await;
    fault.cut().await;
    let cut = Instant::now();
    // Every disconnect, and the connection after the last, happen during the outage.
    let all = DISCONNECTS + 1;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.stats().totals.connections < all
        || cut.elapsed() < Duration::from_secs(RETRY_FOR_SECS * 3)
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            daemon.running(),
            "the daemon ended during the outage ({:?} in):\n{}",
            cut.elapsed(),
            tail(&daemon.log_text(), 40)
        );
        assert!(
            Instant::now() < deadline,
            "the simulator saw {} connections",
            sim.stats().totals.connections
        );
    }
    let sent_by_then = sim.stats().totals.lines_sent;
    wait_until(
        "the last connection's lines are sent",
        Duration::from_secs(30),
        || {
            let n = sim.stats().totals.lines_sent;
            async move { n >= all * PER_CONNECTION }
        },
    )
    .await;
    let outage = cut.elapsed();
    let archived_in_outage = archived(db).await;
    fault.restore().await;
    let restored = Instant::now();
    // The last connection idles: what the simulator sent is final.
    wait_until(
        "everything sent is archived",
        Duration::from_secs(60),
        || {
            let sent = sim.stats().totals.lines_sent as i64;
            async move { archived(db).await >= sent }
        },
    )
    .await;
    let caught_up = restored.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exit = daemon.stop(Duration::from_secs(30));
    let stats = sim.stop().await;
    println!(
        "{}: outage {outage:?} (retry budget {RETRY_FOR_SECS} s), {} connections served, \
         {sent_by_then} lines sent when the last connected, {archived_in_outage} archived at \
         the restore, caught up {caught_up:?} after it; sent {}",
        fault.name(),
        stats.totals.connections,
        stats.totals.lines_sent
    );
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert!(
        exit.log.contains("spooling what is read"),
        "{}",
        tail(&exit.log, 40)
    );
    check_archive(db, stats.totals.lines_sent).await;
    assert_eq!(segments(&spool_dir), 0, "the spool is empty");
}

both_backends!(term_reconnecting, |db| {
    term_while_reconnecting_during_an_outage_then_the_next_start_drains(&db)
});

async fn term_while_reconnecting_during_an_outage_then_the_next_start_drains(db: &TestDb) {
    const BOUND: u64 = 6;
    let work = tempfile::tempdir().unwrap();
    let spool_dir = work.path().join("spool");
    let (mut fault, url) = Fault::new(&db.url).await;
    let extra = format!("\n[daemon]\nshutdown_timeout_secs = {BOUND}\n");
    let (sim, config) = setup(work.path(), &url, &extra).await;
    let mut daemon = Proc::start(work.path(), &config);
    wait_until(
        "200 events archived",
        Duration::from_secs(30),
        || async move { archived(db).await >= 200 },
    )
    .await;
    fault.cut().await;
    // Three reconnects into the outage, past the retry budget.
    connections_served(&sim, 4, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(RETRY_FOR_SECS + 1)).await;
    assert!(daemon.running(), "{}", tail(&daemon.log_text(), 40));
    let exit = daemon.stop(Duration::from_secs(BOUND + 20));
    // The simulator's count is exact once its streams end from its side.
    let stats = sim.stop().await;
    let (in_archive, in_spool) = (archived(db).await, spooled(&spool_dir));
    println!(
        "SIGTERM while reconnecting in an outage ({}): exit {:?} after {:?} (bound {BOUND} s); \
         {in_archive} archived + {in_spool} spooled of {} sent",
        fault.name(),
        exit.code,
        exit.took,
        stats.totals.lines_sent
    );
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert!(
        exit.took <= Duration::from_millis(BOUND * 1000 + 1000),
        "took {:?}",
        exit.took
    );
    assert!(in_spool > 0, "the outage left records in the spool");
    assert_eq!(
        in_archive + in_spool as i64,
        stats.totals.lines_sent as i64,
        "nothing read is lost"
    );
    fault.restore().await;
    // The next start drains the spool before its stream connects (to no simulator now: its
    // attempts fail and are logged, which adds rows but no records).
    let mut again = Proc::start(work.path(), &config);
    let sent = stats.totals.lines_sent;
    wait_until(
        "the spool is committed",
        Duration::from_secs(60),
        || async move { archived(db).await >= sent as i64 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exit = again.stop(Duration::from_secs(30));
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    let rows = connections(db, "main").await;
    let disconnected = rows
        .iter()
        .filter(|r| r.end_reason.as_deref() == Some("disconnect_message"))
        .count();
    assert!(disconnected >= 3, "{disconnected} disconnects recorded");
    for row in &rows {
        assert!(
            row.ended_at.is_some() && row.end_reason.is_some(),
            "connection {} is open",
            row.id
        );
        assert_eq!(
            row.messages,
            archived_on(db, row.id).await,
            "connection {}",
            row.id
        );
        assert_ne!(
            row.end_reason.as_deref(),
            Some("crash"),
            "connection {} closed as crash",
            row.id
        );
    }
    let disconnects = db.int("SELECT COUNT(*) FROM disconnects").await;
    assert_eq!(disconnects as usize, disconnected);
    let dups = db
        .int("SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM events WHERE kind = 'tweet'")
        .await;
    assert_eq!(dups, 0);
    assert_eq!(archived(db).await, sent as i64, "archived = sent");
    assert_eq!(segments(&spool_dir), 0, "the spool is empty");
}
