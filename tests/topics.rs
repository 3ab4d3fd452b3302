//! Topic-based live sessions: `streamvault run` against the simulator's live pipeline. Samples
//! for every topic kind, counts as strings and numbers, renewal across TTLs, reloads that update
//! subscriptions or open a new session, stalls, drops, unknown payloads.

mod common;

use common::TestDb;
use common::daemon::*;
use std::time::Duration;
use streamvault::simulate::{Simulator, Stats};

const TWEET: &str = "/tweet_engagement/1739617652";
const OTHER: &str = "/tweet_engagement/42";
const THIRD: &str = "/tweet_engagement/77";
const DM: &str = "/dm_update/17544932482-174455537996";
const TYPING: &str = "/dm_typing/17544932482-174455537996";

fn sent(stats: &Stats, topic: &str) -> u64 {
    stats
        .sessions
        .iter()
        .map(|s| s.events_by_topic.get(topic).copied().unwrap_or(0))
        .sum()
}

async fn wait_sent(sim: &Simulator, topics: &[&str], at_least: u64) {
    wait_until("events on every topic", Duration::from_secs(20), || {
        let stats = sim.stats();
        let ok = topics.iter().all(|t| sent(&stats, t) >= at_least);
        async move { ok }
    })
    .await;
}

both_backends!(samples_are_archived_for_every_topic_kind, |db| async {
    let stats = run_until_500_sent(&db).await;
    archived_as_sent(&db, &stats).await;
    counts_become_integers(&db).await;
    partial_events_keep_the_latest(&db).await;
    let conn = &stats.connections[0];
    let rows = connections(&db, "live").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].end_reason.as_deref(), Some("shutdown"));
    assert_eq!(rows[0].messages as u64, conn.frames_sent);
});

/// A daemon reading the `live-finite` scenario on every topic kind until its 500 events are
/// sent, then stopped (exit 0); what the simulator sent, in one session.
async fn run_until_500_sent(db: &TestDb) -> Stats {
    // 500 events, then heartbeats only: what was sent can all be read before the stop.
    let sim = simulator(builtin("live-finite"), 1000.0).await;
    let topics = [TWEET, OTHER, DM, TYPING];
    let daemon = Daemon::start(
        db,
        &[topics_stream("live", &sim, "live-finite", &topics)],
        0.01,
    );
    wait_until("the 500 events are sent", Duration::from_secs(20), || {
        let n: u64 = sim
            .stats()
            .sessions
            .iter()
            .flat_map(|s| s.events_by_topic.values())
            .sum();
        async move { n >= 500 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stop().await;
    assert_eq!(stats.sessions.len(), 1);
    stats
}

/// Every data frame sent is an event; samples, DM rows and the session match exactly.
async fn archived_as_sent(db: &TestDb, stats: &Stats) {
    let session = &stats.sessions[0];
    let conn = &stats.connections[0];
    assert!(conn.query.contains("topics="), "{}", conn.query);
    for (kind, n) in &conn.by_kind {
        let archived = db
            .int(&format!(
                "SELECT COUNT(*) FROM events WHERE kind = '{kind}'"
            ))
            .await;
        assert_eq!(archived as u64, *n, "{kind}");
    }
    assert_eq!(
        db.count("events").await as u64,
        conn.frames_sent,
        "archived by kind {:?}, sent {:?}",
        db.rows("SELECT kind, CAST(COUNT(*) AS TEXT) FROM events GROUP BY kind ORDER BY kind")
            .await,
        conn.by_kind
    );
    let engagement = sent(stats, TWEET) + sent(stats, OTHER);
    assert_eq!(db.count("engagement_samples").await as u64, engagement);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM dm_activity WHERE kind = 'update'")
            .await as u64,
        sent(stats, DM)
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM dm_activity WHERE kind = 'typing'")
            .await as u64,
        sent(stats, TYPING)
    );
    assert_eq!(
        db.text("SELECT session_id FROM live_sessions")
            .await
            .as_deref(),
        Some(session.session_id.as_str())
    );
    assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM engagement_samples WHERE session_id = '{}'",
            session.session_id
        ))
        .await as u64,
        engagement
    );
}

/// Counts arrive as strings and as numbers; both become integers.
async fn counts_become_integers(db: &TestDb) {
    let of_type = |t: &str| {
        if db.is_postgres() {
            format!(
                "SELECT COUNT(*) FROM events WHERE kind = 'tweet_engagement' AND jsonb_typeof(raw->'payload'->'tweet_engagement'->'like_count') = '{t}'"
            )
        } else {
            let t = if t == "string" { "text" } else { "integer" };
            format!(
                "SELECT COUNT(*) FROM events WHERE kind = 'tweet_engagement' AND json_type(raw, '$.payload.tweet_engagement.like_count') = '{t}'"
            )
        }
    };
    let as_string = db.int(&of_type("string")).await;
    let as_number = db.int(&of_type("number")).await;
    assert!(
        as_string > 0 && as_number > 0,
        "strings {as_string}, numbers {as_number}"
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM engagement_samples WHERE like_count IS NOT NULL")
            .await,
        as_string + as_number,
        "every like count, string or number, became an integer"
    );
}

/// Partial events: absent counts are NULL, and engagement_latest carries the last value.
async fn partial_events_keep_the_latest(db: &TestDb) {
    assert!(
        db.int("SELECT COUNT(*) FROM engagement_samples WHERE like_count IS NULL")
            .await
            > 0,
        "some samples omit likes"
    );
    for (topic, id) in [(TWEET, "1739617652"), (OTHER, "42")] {
        let latest = db
            .int(&format!(
                "SELECT COALESCE(like_count, -1) FROM engagement_latest WHERE tweet_id = {id}"
            ))
            .await;
        let max = db
            .int(&format!(
                "SELECT COALESCE(MAX(like_count), -1) FROM engagement_samples WHERE tweet_id = {id}"
            ))
            .await;
        assert_eq!(
            latest, max,
            "{topic}: counts never decrease, so the latest is the maximum"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_sessions_are_read_too() {
    let db = TestDb::sqlite().await;
    // A finite session, so that every frame sent is read before the stop.
    let scenario = scenario_toml(
        db.dir.path(),
        "name = \"lines-finite\"\nformat = \"lines\"\n[[connection]]\nsteps = [{ live = 60 }, { idle = \"forever\" }]\n",
    );
    let sim = simulator(scenario, 500.0).await;
    let daemon = Daemon::start(
        &db,
        &[topics_stream("live", &sim, "lines-finite", &[TWEET])],
        0.01,
    );
    wait_sent(&sim, &[TWEET], 60).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stop().await;
    assert_eq!(stats.connections[0].family, "topics");
    assert_eq!(sent(&stats, TWEET), 60);
    assert_eq!(db.count("engagement_samples").await, 60);
    assert_eq!(db.count("live_sessions").await, 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_keeps_events_flowing_across_several_ttls() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live-ttl"), 50.0).await; // TTL 1.5 s
    let daemon = Daemon::start(
        &db,
        &[topics_stream("live", &sim, "live-ttl", &[TWEET, DM])],
        0.01,
    );
    tokio::time::sleep(Duration::from_millis(5000)).await; // more than three TTLs
    let before = sent(&sim.stats(), TWEET);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stats = sim.stats();
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert!(
        sent(&stats, TWEET) > before,
        "events still flow after three TTLs"
    );
    let session = &stats.sessions[0];
    assert_eq!(stats.sessions.len(), 1, "one session throughout");
    assert!(
        session.expired_topics.is_empty(),
        "{:?}",
        session.expired_topics
    );
    let renewals: Vec<_> = session.updates.iter().filter(|u| u.status == 200).collect();
    assert!(
        renewals.len() >= 3,
        "renewed before each TTL: {:?}",
        session.updates
    );
    for u in &renewals {
        assert!(
            u.sub.contains(&TWEET.to_string()) && u.errors.is_empty(),
            "{u:?}"
        );
    }
    // The answers are archived as `subscriptions` events.
    assert!(
        db.int("SELECT COUNT(*) FROM events WHERE kind = 'subscriptions'")
            .await
            >= 3
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_updates_subscriptions_without_a_new_session() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live"), 200.0).await;
    let spec = |topics: &[&str]| vec![topics_stream("live", &sim, "live", topics)];
    let daemon = Daemon::start(&db, &spec(&[TWEET, OTHER]), 0.01);
    wait_sent(&sim, &[TWEET, OTHER], 3).await;
    daemon.reload(&db, &spec(&[OTHER, THIRD]), 0.01);
    wait_until("the new topic flows", Duration::from_secs(20), || {
        let n = sent(&sim.stats(), THIRD);
        async move { n >= 3 }
    })
    .await;
    let removed_at = sent(&sim.stats(), TWEET);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = sim.stats();
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert_eq!(sent(&stats, TWEET), removed_at, "the removed topic stopped");
    assert_eq!(stats.sessions.len(), 1, "no new session");
    let session = &stats.sessions[0];
    let mut current = session.current_topics.clone();
    current.sort();
    assert_eq!(current, vec![OTHER.to_string(), THIRD.to_string()]);
    assert!(
        session
            .updates
            .iter()
            .any(|u| u.sub == vec![THIRD.to_string()] && u.unsub == vec![TWEET.to_string()]),
        "{:?}",
        session.updates
    );
    assert_eq!(connections(&db, "live").await.len(), 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_topic_added_by_reload_opens_a_new_session() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live"), 200.0).await;
    let spec = |topics: &[&str]| vec![topics_stream("live", &sim, "live", topics)];
    let daemon = Daemon::start(&db, &spec(&[TWEET]), 0.01);
    wait_sent(&sim, &[TWEET], 3).await;
    daemon.reload(&db, &spec(&[TWEET, DM]), 0.01);
    wait_sent(&sim, &[DM], 3).await;
    let log = daemon.log_text();
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    assert!(
        log.contains("DM topics cannot be added to a live session"),
        "{log}"
    );
    let stats = sim.stop().await;
    assert_eq!(stats.sessions.len(), 2);
    assert!(stats.sessions[1].opened_topics.contains(&DM.to_string()));
    let rows = connections(&db, "live").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].end_reason.as_deref(), Some("reload"));
    assert_eq!(rows[0].backoff_ms, Some(0), "a new session opens at once");
    assert_eq!(db.count("live_sessions").await, 2);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_session_is_a_stall_and_a_dropped_one_reconnects() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live-stall"), 200.0).await;
    let mut stalled = topics_stream("stalled", &sim, "live-stall", &[TWEET]);
    stalled.extra.push_str("stall_timeout_secs = 1\n");
    let dropped = topics_stream("dropped", &sim, "live-drop", &[OTHER]);
    let daemon = Daemon::start(&db, &[stalled, dropped], 0.01);
    wait_until(
        "both streams are on their second session",
        Duration::from_secs(30),
        || {
            let db = &db;
            async move {
                db.int("SELECT COUNT(*) FROM live_sessions WHERE stream = 'stalled'")
                    .await
                    >= 2
                    && db
                        .int("SELECT COUNT(*) FROM live_sessions WHERE stream = 'dropped'")
                        .await
                        >= 2
            }
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stalled = connections(&db, "stalled").await;
    assert_eq!(
        stalled[0].end_reason.as_deref(),
        Some("stall"),
        "{stalled:?}"
    );
    // Silence allowed: max(3 × heartbeat, min(15 s, stall_timeout_secs)).
    let lasted = stalled[0].ended_at.unwrap() - stalled[0].started_at;
    assert!(lasted >= chrono::Duration::milliseconds(1000), "{lasted:?}");
    assert_wait(&stalled[0], 250.0 * 0.01);
    let dropped = connections(&db, "dropped").await;
    assert_eq!(dropped[0].end_reason.as_deref(), Some("eof"), "{dropped:?}");
    assert_wait(&dropped[0], 250.0 * 0.01);
    assert_waited(&dropped);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_payloads_are_stored_and_a_forgotten_session_is_replaced() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live-unknown"), 200.0).await;
    let unknown = topics_stream("unknown", &sim, "live-unknown", &[TWEET]);
    let forgotten = topics_stream("forgotten", &sim, "live-not-found", &[OTHER]);
    let daemon = Daemon::start(&db, &[unknown, forgotten], 0.01);
    wait_until(
        "the unknown frame and a new session",
        Duration::from_secs(20),
        || {
            let db = &db;
            async move {
                db.int("SELECT COUNT(*) FROM events WHERE kind = 'unknown' AND stream = 'unknown'")
                    .await
                    >= 1
                    && db
                        .int("SELECT COUNT(*) FROM live_sessions WHERE stream = 'forgotten'")
                        .await
                        >= 2
            }
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let raw = db
        .text("SELECT CAST(raw AS TEXT) FROM events WHERE kind = 'unknown'")
        .await
        .unwrap();
    assert!(raw.contains("payload"), "kept whole: {raw}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_reconnect_the_stream_stops_after_the_first_drop() {
    let db = TestDb::sqlite().await;
    let sim = simulator(builtin("live-drop"), 200.0).await;
    let mut spec = topics_stream("live", &sim, "live-drop", &[TWEET]);
    spec.extra.push_str("auto_reconnect = false\n");
    let daemon = Daemon::start(&db, &[spec], 0.01);
    let exit = daemon.exit(Duration::from_secs(20));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let rows = connections(&db, "live").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].end_reason.as_deref(), Some("eof"));
    db.cleanup().await;
}
