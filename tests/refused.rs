//! Rows the database refuses, on both backends: what PostgreSQL cannot hold as `jsonb` is
//! normalised or kept in `rejects`, a refused batch is split so that every other record
//! commits (compliance as in the whole batch), and a writer that dies ends the daemon at once.

mod common;

use common::daemon::{Daemon, scenario_toml, simulator, stream};
use common::{BIG, TestDb, delete, tweet};
use std::time::Duration;

/// `tweet(id)` with `field` (a JSON member) added before its other members.
fn tweet_with(id: i64, field: &str) -> String {
    let t = tweet(id, 7, "hostile");
    format!("{{{field},{}", &t[1..])
}

/// Rejects as (reason, raw line).
async fn rejects(db: &TestDb) -> Vec<(String, String)> {
    let raw = if db.is_postgres() {
        "convert_from(raw, 'UTF8')"
    } else {
        "CAST(raw AS TEXT)"
    };
    db.rows(&format!(
        "SELECT reason, {raw} FROM rejects ORDER BY reject_id"
    ))
    .await
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
    .collect()
}

async fn raw_of(db: &TestDb, id: i64) -> String {
    db.text(&format!(
        "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {id}"
    ))
    .await
    .unwrap_or_else(|| panic!("status {id} not archived"))
}

both_backends!(a_refused_line_costs_none_of_its_neighbours, |db| async {
    let surrogate = tweet_with(BIG + 100, r#""junk":"\ud800""#);
    let escaped = tweet_with(BIG + 101, r#""junk":"\\ud800 \ud83d\ude00""#);
    let huge = tweet_with(BIG + 102, r#""junk":1e999999"#);
    let mut lines: Vec<String> = (0..10).map(|i| tweet(BIG + i, 1, "good")).collect();
    lines.insert(3, surrogate);
    lines.insert(6, huge.clone());
    lines.insert(8, escaped);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    // One batch: all 13 lines go to the database together.
    let summary = db.replay_lines(&refs).await;
    assert_eq!(summary.lines, 13);
    for i in 0..10 {
        raw_of(&db, BIG + i).await;
    }
    let kept = raw_of(&db, BIG + 101).await;
    assert!(
        kept.contains(r"\\ud800"),
        "an escaped backslash is text: {kept}"
    );
    let surrogate_raw = raw_of(&db, BIG + 100).await;
    if db.is_postgres() {
        // Normalised the documented way (U+FFFD); the number cannot be, and is refused.
        assert_eq!(
            db.text(&format!(
                "SELECT raw->>'junk' FROM tweets WHERE tweet_id = {}",
                BIG + 100
            ))
            .await
            .as_deref(),
            Some("\u{FFFD}")
        );
        assert!(
            kept.contains("😀") || kept.contains(r"\ud83d\ude00"),
            "{kept}"
        );
        assert_eq!(db.count("tweets").await, 12);
        assert_eq!(db.count("events").await, 12);
        let rejects = rejects(&db).await;
        assert_eq!(rejects.len(), 1, "{rejects:?}");
        assert!(
            rejects[0].0.starts_with("database refused: ") && rejects[0].0.contains("numeric"),
            "{}",
            rejects[0].0
        );
        assert_eq!(rejects[0].1, huge, "the line as received");
        assert_eq!(summary.writer.refused, 1);
        assert_eq!(summary.writer.records, 13);
    } else {
        // SQLite stores text as received: both lines are archived unchanged.
        assert!(surrogate_raw.contains(r"\ud800"), "{surrogate_raw}");
        assert!(raw_of(&db, BIG + 102).await.contains("1e999999"));
        assert_eq!(db.count("tweets").await, 13);
        assert_eq!(db.count("rejects").await, 0);
        assert_eq!(summary.writer.refused, 0);
    }
});

both_backends!(
    a_split_batch_applies_compliance_as_the_whole_would,
    |db| async {
        let (a, b, c, d) = (BIG + 10, BIG + 11, BIG + 12, BIG + 13);
        let lines = [
            tweet(a, 1, "deleted later in the batch"),
            delete(b, 1),
            tweet(c, 1, "kept"),
            tweet_with(BIG + 14, r#""junk":1e999999"#),
            tweet(b, 1, "arrives after its delete"),
            delete(a, 1),
            tweet(d, 1, "kept"),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let summary = db.replay_lines(&refs).await;
        let ids: Vec<String> = db
            .rows("SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweets.tweet_id")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect();
        let mut expected = vec![c.to_string(), d.to_string()];
        if !db.is_postgres() {
            expected.push((BIG + 14).to_string()); // SQLite holds the number as text
        }
        assert_eq!(ids, expected, "deleted statuses are gone, in either order");
        let deletions = db
        .rows(
            "SELECT CAST(tweet_id AS TEXT), CASE WHEN arrived_before_tweet THEN 'y' ELSE 'n' END \
             FROM deletions ORDER BY tweet_id",
        )
        .await;
        let deletions: Vec<(String, String)> = deletions
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
            .collect();
        assert_eq!(
            deletions,
            vec![(a.to_string(), "n".into()), (b.to_string(), "y".into())]
        );
        assert_eq!(
        db.int(&format!("SELECT COUNT(*) FROM deletions WHERE tweet_id = {b} AND tweet_arrived_at IS NOT NULL"))
            .await,
        1,
        "the late status is noted as arrived after its delete"
    );
        assert_eq!(db.count("rejects").await, i64::from(db.is_postgres()));
        assert_eq!(summary.writer.records, 7);
    }
);

// A daemon whose writer fails for good (a table renamed under it) while its only stream is
// idle exits 4 at once, with the database's error in its log: not when the next line comes.
both_backends!(a_dead_writer_ends_the_daemon_at_once, |db| async {
    db.rows("ALTER TABLE tweets RENAME TO tweets_gone").await;
    let scenario = scenario_toml(
        db.dir.path(),
        "name = \"few\"\nrate = 100.0\n[[connection]]\nsteps = [{ send = 5 }, { idle = \"forever\" }]\n",
    );
    let sim = simulator(scenario, 100.0).await;
    let mut spec = stream("main", &sim, "/1.1/statuses/filter.json", "few");
    spec.url = format!("http://{}/1.1/statuses/filter.json", sim.addr());
    let daemon = Daemon::start(&db, &[spec], 0.01);
    let exit = daemon.exit(Duration::from_secs(20));
    eprintln!("exit {:?} {:?} after the start", exit.code, exit.took);
    assert_eq!(exit.code, Some(4), "{}", exit.log);
    assert!(exit.took < Duration::from_secs(10), "took {:?}", exit.took);
    let log = exit.log;
    assert!(
        log.contains("the writer stopped: nothing more can be archived"),
        "{log}"
    );
    assert!(
        log.contains("tweets") && (log.contains("no such table") || log.contains("does not exist")),
        "{log}"
    );
});

// SQLite's JSON functions refuse documents nested past their limit (1000 levels): a geo scrub
// that meets such an archived status is refused alone, and the lines around it commit.
both_backends!(
    a_notice_the_database_cannot_apply_costs_no_neighbour,
    |db| async {
        let deep = format!("{}1{}", "[".repeat(1100), "]".repeat(1100));
        let located = common::geo_tweet(BIG + 20, 5, "located");
        let deep_tweet = format!("{{\"junk\":{deep},{}", &located[1..]);
        db.replay_lines(&[&deep_tweet]).await;
        let deep_archived = db
            .int(&format!(
                "SELECT COUNT(*) FROM tweets WHERE tweet_id = {}",
                BIG + 20
            ))
            .await
            == 1;
        let scrub = common::scrub_geo(5, BIG + 20);
        let lines = [
            tweet(BIG + 21, 1, "before"),
            scrub.clone(),
            tweet(BIG + 22, 1, "after"),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let summary = db.replay_lines(&refs).await;
        raw_of(&db, BIG + 21).await;
        raw_of(&db, BIG + 22).await;
        let refused: Vec<(String, String)> = rejects(&db)
            .await
            .into_iter()
            .filter(|(reason, _)| reason.starts_with("database refused"))
            .collect();
        eprintln!(
            "deep status archived: {deep_archived}; refused: {:?}",
            refused.iter().map(|r| &r.0).collect::<Vec<_>>()
        );
        if deep_archived && !db.is_postgres() {
            assert_eq!(refused.len(), 1, "{refused:?}");
            assert!(refused[0].0.contains("JSON"), "{}", refused[0].0);
            assert_eq!(refused[0].1, scrub);
            assert_eq!(summary.writer.refused, 1);
        } else {
            assert!(refused.is_empty(), "{refused:?}");
        }
    }
);
