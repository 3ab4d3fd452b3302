//! `kill -9` during heavy ingest on SQLite (issue 7, item 6): what a crash may cost and what it
//! must never cost.
//!
//! Each trial runs the real `streamvault run` (`flush_interval_ms = 50`) on a fresh SQLite file,
//! fed by the in-process simulator's `clean` scenario at 5000 events/s, and SIGKILLs it after a
//! seeded random delay (200–1500 ms after the stream started flowing). While it runs, the test
//! reads the archive from outside and remembers how many events it saw committed. After the kill
//! it proves, for every trial:
//!
//! - **the file opens and is sound**: `PRAGMA integrity_check` is `ok` (WAL recovery included);
//! - **the archive is consistent**: every `tweet` event has its `tweets` row unless it was
//!   deleted (a `deletions` row for it, or for the status it retweets: the contract erases pure
//!   retweets with their original);
//! - **no committed batch is lost**: every event seen committed before the kill is still there
//!   (`synchronous=NORMAL` in WAL mode survives a process crash; only power loss could cost the
//!   last transactions);
//! - **no partial batch, no hole, no reordering**: the archived events, in `event_id` order, are
//!   exactly the first N lines the simulator sends (the same seed gives the same stream, read
//!   once as a reference), so what survived is a prefix of what was sent;
//! - **the loss is bounded**: the loss window — the kill time minus the `received_at` of the
//!   last archived event — is at most one flush interval plus one batch commit
//!   ([`WINDOW_BOUND_MS`]); the loss in events (sent − archived) is at most what the stream
//!   delivers in that window plus what sits in the pipeline's bounded channel and the loopback
//!   socket buffers ([`LOSS_BOUND`]);
//! - **a restarted daemon carries on**: on the same file it opens a new `connections` row,
//!   archives new events after the old ones, stops on SIGTERM with exit 0 having committed all
//!   it read (`connections.messages` = archived), and the file is still sound.
//!
//! - **the crash is recorded**: at restart the crashed attempt's `connections` row, left open by
//!   the kill, is closed with `end_reason = 'crash'` and `ended_at` = its last event, so the
//!   report shows the crash's gap.
//!
//! A line per trial and a final table are printed (`cargo nextest run --test crash
//! --no-capture`). `CRASH_TRIALS` (default 20) and `CRASH_SEED` change the trials.

mod common;

use common::daemon::{builtin, simulator, stream, wait_until};
use common::faults::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

const PATH: &str = "/1.1/statuses/filter.json";
/// Events per second the simulator sends.
const RATE: f64 = 5000.0;
const FLUSH_MS: u64 = 50;
/// The simulator's seed in `common::daemon::simulator`.
const SIM_SEED: u64 = 7;
/// The loss window allowed: one flush interval (records younger than that may still be in the
/// open batch), plus the batch commit that was under way at the kill — which at this rate may
/// include a WAL auto-checkpoint (every 32 MiB of WAL, ~2 s of stream; measured up to ~250 ms on
/// the 2-core development machine) — plus scheduling on a loaded 2-core CI machine. The
/// measured maximum and mean are printed; the bound is what the test enforces.
const WINDOW_BOUND_MS: i64 = FLUSH_MS as i64 + 450;

/// The largest loss (sent − archived, in events) a trial may show, and why: every line the
/// simulator counted as sent is either archived; or was read after the last committed one,
/// i.e. within the loss window (at most `RATE × WINDOW_BOUND_MS`, plus a catch-up burst that
/// the pipeline's bounded queues cap: 8 chunks of at most 256 records in the channel and one
/// assembled batch of at most `batch_size` = 1000 waiting for the writer); or never left the
/// loopback socket buffers and hyper's write buffer (a daemon that keeps up leaves little
/// there; allowed: 4 MiB, ~1200 lines of the generator's ~3.5 KB average).
const LOSS_BOUND: i64 = (RATE as i64) * WINDOW_BOUND_MS / 1000 + 8 * 256 + 1000 + 1200;

#[derive(Debug, Default, Clone)]
struct Trial {
    n: usize,
    delay_ms: u64,
    /// Events seen committed by an outside reader just before the kill.
    seen_committed: i64,
    sent: u64,
    archived: i64,
    loss: i64,
    window_ms: i64,
    integrity: String,
    /// Status events whose status is missing, not deleted, not a retweet of a deleted one.
    orphans: i64,
    /// Status events of retweets erased with their deleted original (as the contract says).
    retweets_of_deleted: i64,
    prefix_ok: bool,
    restart_events: i64,
    restart_exit: Option<i32>,
    restart_integrity: String,
    /// The crashed attempt's `connections` row after the restart: `ended_at`, `end_reason`.
    crashed_row: (Option<String>, Option<String>),
    failures: Vec<String>,
}

fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("time {s:?}: {e}"))
        .with_timezone(&chrono::Utc)
}

async fn run_trial(n: usize, delay_ms: u64, reference: &[RefEvent]) -> Trial {
    let mut t = Trial {
        n,
        delay_ms,
        ..Trial::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.db");
    let url = format!("sqlite://{}", path.display());
    let sim = simulator(builtin("clean"), RATE).await;
    let mut config = ProcConfig::new(&url, vec![stream("main", &sim, PATH, "clean")]);
    config.flush_interval_ms = FLUSH_MS;
    let mut daemon = Proc::start(dir.path(), &config);
    // Heavy ingest: wait for the first committed events, then a random delay, reading along.
    wait_until("the stream flows", Duration::from_secs(30), || {
        let flowing = sim.stats().totals.lines_sent > 0 && path.exists();
        async move { flowing }
    })
    .await;
    let pool = sqlite_pool(&path).await;
    let kill_at = Instant::now() + Duration::from_millis(delay_ms);
    while Instant::now() < kill_at {
        if let Ok(row) = sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)",
        )
        .fetch_one(&pool)
        .await
        {
            t.seen_committed = row;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed_at = daemon.kill9();
    pool.close().await;
    // Let the simulator notice the client is gone before reading what it sent.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stats = sim.stats();
    t.sent = stats.connections.first().map(|c| c.lines_sent).unwrap_or(0);

    // The file after the crash.
    let pool = sqlite_pool(&path).await;
    t.integrity = integrity(&pool).await;
    if t.integrity != "ok" {
        t.failures.push(format!("integrity_check: {}", t.integrity));
    }
    // Status events without their status and without a deletion of it: the contract erases
    // a pure retweet together with the status it carries, so those are explained by a
    // deletion of the original (the reference stream tells which status a retweet carries).
    let orphans: Vec<i64> =
        sqlx::query_scalar(&ORPHAN_TWEET_EVENTS.replace("COUNT(*)", "e.tweet_id"))
            .fetch_all(&pool)
            .await
            .unwrap();
    let deleted: std::collections::HashSet<i64> =
        sqlx::query_scalar::<_, i64>("SELECT tweet_id FROM deletions")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let carried: std::collections::HashMap<i64, i64> = reference
        .iter()
        .filter_map(|r| Some((r.tweet_id?, r.retweet_of?)))
        .collect();
    t.retweets_of_deleted = orphans
        .iter()
        .filter(|id| carried.get(id).is_some_and(|o| deleted.contains(o)))
        .count() as i64;
    t.orphans = orphans.len() as i64 - t.retweets_of_deleted;
    if t.orphans != 0 {
        t.failures.push(format!(
            "{} tweet events without their status and without a deletion of it or of the \
             status it retweets",
            t.orphans
        ));
    }
    let events = int(&pool, "SELECT COUNT(*) FROM events").await;
    let rejects = int(&pool, "SELECT COUNT(*) FROM rejects").await;
    t.archived = events + rejects;
    if rejects != 0 {
        t.failures
            .push(format!("{rejects} rejects from a clean stream"));
    }
    if t.archived < t.seen_committed {
        t.failures.push(format!(
            "committed batches lost: {} events seen committed before the kill, {} after",
            t.seen_committed, t.archived
        ));
    }
    // A prefix of what was sent, in order, with no hole.
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT kind, tweet_id FROM events ORDER BY event_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let span = int(
        &pool,
        "SELECT MAX(event_id) - MIN(event_id) + 1 FROM events",
    )
    .await;
    t.prefix_ok = rows.len() <= reference.len()
        && span == rows.len() as i64
        && rows
            .iter()
            .zip(reference)
            .all(|((kind, id), r)| *kind == r.kind && (r.kind != "tweet" || *id == r.tweet_id));
    if !t.prefix_ok {
        let first_diff = rows.iter().zip(reference).position(|((kind, id), r)| {
            *kind != r.kind || (r.kind == "tweet" && *id != r.tweet_id)
        });
        t.failures.push(format!(
            "the archive is not a prefix of the stream: {} rows, event_id span {span}, reference {}, first difference at {first_diff:?}",
            rows.len(),
            reference.len()
        ));
    }
    t.loss = t.sent as i64 - t.archived;
    if t.loss < 0 {
        t.failures.push(format!(
            "archived {} events but the simulator sent {}",
            t.archived, t.sent
        ));
    }
    if t.loss > LOSS_BOUND {
        t.failures.push(format!(
            "lost {} events, more than the bound {LOSS_BOUND}",
            t.loss
        ));
    }
    let last: Option<String> = sqlx::query_scalar("SELECT MAX(received_at) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    t.window_ms = match last {
        Some(last) => (killed_at - parse_time(&last)).num_milliseconds(),
        None => i64::MAX,
    };
    if t.window_ms > WINDOW_BOUND_MS {
        t.failures.push(format!(
            "loss window {} ms exceeds {WINDOW_BOUND_MS} ms",
            t.window_ms
        ));
    }
    let crashed_conn = int(&pool, "SELECT MAX(connection_id) FROM connections").await;
    let max_event = int(&pool, "SELECT MAX(event_id) FROM events").await;
    pool.close().await;

    // A restarted daemon carries on.
    let mut restarted = Proc::start(dir.path(), &config);
    let pool = sqlite_pool(&path).await;
    let fresh = format!("SELECT COUNT(*) FROM events WHERE connection_id > {crashed_conn}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while int(&pool, &fresh).await < 500 {
        if Instant::now() > deadline || !restarted.running() {
            t.failures.push(format!(
                "the restarted daemon archived nothing new; log:\n{}",
                tail(&restarted.log_text(), 30)
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    pool.close().await;
    let exit = if restarted.running() {
        Some(restarted.stop(Duration::from_secs(15)))
    } else {
        None
    };
    t.restart_exit = exit.as_ref().and_then(|e| e.code);
    if t.restart_exit != Some(0) {
        t.failures.push(format!(
            "the restarted daemon exited {:?}: {}",
            t.restart_exit,
            exit.map(|e| tail(&e.log, 30)).unwrap_or_default()
        ));
    }
    let pool = sqlite_pool(&path).await;
    t.restart_integrity = integrity(&pool).await;
    if t.restart_integrity != "ok" {
        t.failures.push(format!(
            "integrity_check after the restart: {}",
            t.restart_integrity
        ));
    }
    t.restart_events = int(&pool, &fresh).await;
    let conns: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT connection_id, end_reason, messages FROM connections ORDER BY connection_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    t.crashed_row = sqlx::query_as(&format!(
        "SELECT ended_at, end_reason FROM connections WHERE connection_id = {crashed_conn}"
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    if t.crashed_row.1.as_deref() != Some("crash") || t.crashed_row.0.is_none() {
        t.failures.push(format!(
            "the crashed connection's row was not closed as `crash` at restart: {:?}",
            t.crashed_row
        ));
    }
    let new_conn = conns.iter().find(|c| c.0 > crashed_conn);
    match new_conn {
        None => t
            .failures
            .push("the restarted daemon opened no connections row".into()),
        Some((id, reason, messages)) => {
            let archived = int(
                &pool,
                &format!(
                    "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {id}) + \
                     (SELECT COUNT(*) FROM rejects WHERE connection_id = {id})"
                ),
            )
            .await;
            if reason.as_deref() != Some("shutdown") || *messages != archived {
                t.failures.push(format!(
                    "restarted connection {id}: end {reason:?}, {messages} messages read, {archived} archived"
                ));
            }
        }
    }
    let min_new = int(
        &pool,
        &format!("SELECT MIN(event_id) FROM events WHERE connection_id > {crashed_conn}"),
    )
    .await;
    if t.restart_events > 0 && min_new <= max_event {
        t.failures.push(format!(
            "new events do not follow the old ones: {min_new} <= {max_event}"
        ));
    }
    pool.close().await;
    sim.stop().await;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_heavy_ingest_never_corrupts_or_loses_a_committed_batch() {
    let trials: usize = std::env::var("CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_070_006);
    let mut rng = StdRng::seed_from_u64(seed);
    // At 5000/s, a trial reads at most ~2 s before the kill.
    let reference = reference_stream(SIM_SEED, 25_000).await;
    println!(
        "kill -9 trials: {trials}, seed {seed}, rate {RATE}/s, flush {FLUSH_MS} ms, \
         window bound {WINDOW_BOUND_MS} ms, loss bound {LOSS_BOUND} events"
    );
    let started = Instant::now();
    let mut results = Vec::new();
    for n in 1..=trials {
        let delay = rng.random_range(200..=1500);
        let t = run_trial(n, delay, &reference).await;
        println!(
            "trial {:2}: kill after {:4} ms | seen committed {:6} | sent {:6} archived {:6} \
             loss {:5} ({:4.0} ms) | window {:4} ms | integrity {} | orphans {} (+{} RT of deleted) | prefix {} | \
             restart +{} exit {:?} integrity {} | crashed row end {:?}{}",
            t.n,
            t.delay_ms,
            t.seen_committed,
            t.sent,
            t.archived,
            t.loss,
            t.loss as f64 * 1000.0 / RATE,
            t.window_ms,
            t.integrity,
            t.orphans,
            t.retweets_of_deleted,
            t.prefix_ok,
            t.restart_events,
            t.restart_exit,
            t.restart_integrity,
            t.crashed_row.1,
            if t.failures.is_empty() {
                String::new()
            } else {
                format!(" | FAILED: {}", t.failures.join("; "))
            }
        );
        results.push(t);
    }
    let integrity_failures = results
        .iter()
        .filter(|t| t.integrity != "ok" || t.restart_integrity != "ok")
        .count();
    let max_loss = results.iter().map(|t| t.loss).max().unwrap_or(0);
    let max_window = results.iter().map(|t| t.window_ms).max().unwrap_or(0);
    let mean_window =
        results.iter().map(|t| t.window_ms).sum::<i64>() / results.len().max(1) as i64;
    let failed: Vec<&Trial> = results.iter().filter(|t| !t.failures.is_empty()).collect();
    println!(
        "| trials | integrity failures | inconsistent | not a prefix | committed lost | restart failures | max loss (events) | max loss (ms at {RATE}/s) | loss window max / mean (ms) | crashed rows not closed | total time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {} / {} | {} | {:.1} s |",
        results.len(),
        integrity_failures,
        results.iter().filter(|t| t.orphans != 0).count(),
        results.iter().filter(|t| !t.prefix_ok).count(),
        results
            .iter()
            .filter(|t| t.archived < t.seen_committed)
            .count(),
        results.iter().filter(|t| t.restart_exit != Some(0)).count(),
        max_loss,
        max_loss as f64 * 1000.0 / RATE,
        max_window,
        mean_window,
        results.iter().filter(|t| t.crashed_row.0.is_none()).count(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{} of {} trials failed:\n{}",
        failed.len(),
        results.len(),
        failed
            .iter()
            .map(|t| format!("trial {}: {}", t.n, t.failures.join("; ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
