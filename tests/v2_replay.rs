//! X API v2 Post-stream lines replayed through the real binary (`streamvault replay`) on both
//! backends: exact rows and typed columns from our own fixtures (tests/fixtures/v2, written from
//! the documented shapes), error lines as typed disconnects, and compliance holding for v2 Posts
//! as for v1.1 statuses.

mod common;

use common::{TestDb, delete, scrub_geo, status_withheld};
use std::process::Command;

const POSTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2/posts.jsonl");
const ERRORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/v2/errors.jsonl"
);

/// Runs `streamvault replay --database URL --stream v2 FILE...` and asserts it succeeded.
fn replay(db: &TestDb, files: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["replay", "--database", &db.url, "--stream", "v2"])
        .args(files)
        .current_dir(db.dir.path())
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A file of the test's own lines.
fn file(db: &TestDb, name: &str, lines: &[String]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.to_string_lossy().into_owned()
}

async fn strings(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    db.rows(sql)
        .await
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| c.unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect()
}

both_backends!(v2_fixtures_archive_exactly, |db| async {
    replay(&db, &[POSTS, ERRORS]);
    counts(&db).await;
    full_post_columns(&db).await;
    references_edits_long_posts_and_places(&db).await;
    errors_and_disconnects(&db).await;
});

async fn counts(db: &TestDb) {
    let kinds = strings(
        db,
        "SELECT kind, CAST(COUNT(*) AS TEXT), CAST(COUNT(raw) AS TEXT) FROM events GROUP BY kind ORDER BY kind",
    )
    .await;
    assert_eq!(kinds, [["error", "11", "11"], ["tweet", "5", "0"]]);
    assert_eq!(db.count("rejects").await, 0);
    // 3 + 2 + 1 + 3 + 1 Posts, each once; all v2; the two older versions of the edited Post
    // erased (`[compliance] edits = "latest"`, the default), their ids kept in `edit_chains`.
    assert_eq!(db.count("tweets").await, 8);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE api = 'v2'").await,
        8
    );
    assert_eq!(db.count("edit_chains").await, 3);
    assert_eq!(db.count("users").await, 3);
    let matches = strings(
        db,
        "SELECT CAST(tweet_id AS TEXT), CAST(rule_id AS TEXT), COALESCE(tag, 'NULL'), stream \
         FROM tweet_matches ORDER BY tweet_id, rule_id",
    )
    .await;
    let expect = [
        ["1600000000000000001", "1273026480692322304", "full", "v2"],
        [
            "1600000000000000001",
            "1273026480692322305",
            "replies",
            "v2",
        ],
        ["1600000000000000300", "1273026480692322304", "full", "v2"],
        ["1600000000000000400", "1273026480692322306", "long", "v2"],
        ["1600000000000000503", "1273026480692322304", "full", "v2"],
    ];
    assert_eq!(matches, expect);
    let tweet_ids = strings(
        db,
        "SELECT CAST(tweet_id AS TEXT) FROM events WHERE kind = 'tweet' ORDER BY event_id",
    )
    .await;
    assert_eq!(
        tweet_ids.concat(),
        [
            "1600000000000000001",
            "1600000000000000300",
            "1600000000000000400",
            "1600000000000000503",
            "1600000000000000600"
        ]
    );
}

async fn full_post_columns(db: &TestDb) {
    let row = strings(
        db,
        "SELECT CAST(user_id AS TEXT), text, lang, CAST(in_reply_to_status_id AS TEXT), \
         CAST(quoted_status_id AS TEXT), CAST(retweeted_status_id AS TEXT), CAST(longitude AS TEXT), \
         CAST(latitude AS TEXT), CAST(withheld_in_countries AS TEXT), CAST(edit_initial_id AS TEXT) \
         FROM tweets WHERE tweet_id = 1600000000000000001",
    )
    .await;
    let row = &row[0];
    assert_eq!(row[0], "2244994945");
    assert_eq!(row[1], "@bob Full Post https://t.co/x");
    assert_eq!(
        (
            row[2].as_str(),
            row[3].as_str(),
            row[4].as_str(),
            row[5].as_str()
        ),
        ("en", "1600000000000000000", "1599999999999999999", "NULL")
    );
    assert_eq!(
        (
            row[6].parse::<f64>().unwrap(),
            row[7].parse::<f64>().unwrap()
        ),
        (-73.99, 40.73)
    );
    let countries: Vec<String> = serde_json::from_str(&row[8]).unwrap();
    assert_eq!(countries, ["DE", "FR"]);
    assert_eq!(row[9], "1600000000000000001");
    let created = db
        .text("SELECT CAST(created_at AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000001")
        .await
        .unwrap();
    assert!(
        created.starts_with("2024-01-15") && created.contains("10:35:00"),
        "{created}"
    );
    let place = db
        .json("SELECT CAST(place AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000001")
        .await
        .unwrap();
    assert_eq!(place["full_name"], "Manhattan, NY");
    // The raw is the Post, with the media and poll it attaches; the line's other includes are
    // rows of their own.
    let raw = db
        .json("SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000001")
        .await
        .unwrap();
    assert_eq!(raw["author_id"], "2244994945");
    assert_eq!(
        raw["includes"]["media"][0]["media_key"],
        "3_1600000000000000010"
    );
    assert_eq!(raw["includes"]["polls"][0]["voting_status"], "open");
    assert!(raw["includes"].get("users").is_none());
    let alice = strings(
        db,
        "SELECT screen_name, CAST(user_id AS TEXT) FROM users ORDER BY screen_name",
    )
    .await;
    assert_eq!(
        alice,
        [["alice", "2244994945"], ["bob", "783214"], ["carol", "12"]]
    );
    let quoted = strings(db, "SELECT CAST(withheld_in_countries AS TEXT), lang FROM tweets WHERE tweet_id = 1599999999999999999").await;
    assert_eq!(quoted[0][1], "de");
    assert!(quoted[0][0].contains("RU"));
}

async fn references_edits_long_posts_and_places(db: &TestDb) {
    let refs = strings(
        db,
        "SELECT CAST(tweet_id AS TEXT), CAST(quoted_status_id AS TEXT), CAST(retweeted_status_id AS TEXT) \
         FROM tweets WHERE tweet_id IN (1600000000000000300, 1600000000000000200) ORDER BY tweet_id",
    )
    .await;
    let refs: Vec<Vec<String>> = refs
        .into_iter()
        .map(|r| r.into_iter().map(|c| c.replace("NULL", "-")).collect())
        .collect();
    assert_eq!(
        refs,
        [
            ["1600000000000000200", "-", "1600000000000000100"],
            ["1600000000000000300", "1600000000000000200", "-"]
        ]
    );
    let long = db
        .text("SELECT text FROM tweets WHERE tweet_id = 1600000000000000400")
        .await
        .unwrap();
    assert!(
        long.starts_with("A long post") && long.ends_with("the end."),
        "{long}"
    );
    assert!(long.chars().count() > 280);
    // The newest version alone is stored; the chain's three ids are recorded.
    let kept = strings(db, "SELECT CAST(tweet_id AS TEXT), CAST(edit_initial_id AS TEXT) FROM tweets WHERE tweet_id BETWEEN 1600000000000000501 AND 1600000000000000503 ORDER BY tweet_id").await;
    assert_eq!(kept, [["1600000000000000503", "1600000000000000501"]]);
    let chain = strings(db, "SELECT CAST(tweet_id AS TEXT), CAST(initial_tweet_id AS TEXT) FROM edit_chains ORDER BY tweet_id").await;
    assert_eq!(chain.len(), 3);
    assert!(
        chain.iter().all(|r| r[1] == "1600000000000000501"),
        "{chain:?}"
    );
    let placed = strings(db, "SELECT CAST(longitude AS TEXT), CAST(located AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000600").await;
    assert_eq!(placed[0][0], "NULL");
    assert!(["1", "true"].contains(&placed[0][1].as_str()), "{placed:?}");
    let place = db
        .json("SELECT CAST(place AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000600")
        .await
        .unwrap();
    assert_eq!(place["full_name"], "Berlin, Germany");
}

async fn errors_and_disconnects(db: &TestDb) {
    let rows = strings(
        db,
        "SELECT COALESCE(CAST(code AS TEXT), 'NULL'), code_name, reason, stream FROM disconnects ORDER BY received_at, code_name",
    )
    .await;
    let mut names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "ClientApplicationStateDegraded",
            "ForceDisconnect",
            "InternalError",
            "InvalidRules",
            "OperationalDisconnect",
            "SlowReader",
            "UpstreamOperationalDisconnect",
            "UpstreamUncleanDisconnect"
        ]
    );
    assert!(rows.iter().all(|r| r[0] == "NULL" && r[3] == "v2"));
    assert!(rows.iter().any(|r| r[2]
        == "This stream has been disconnected because your client was unable to keep up with us."));
    // The error lines are kept whole.
    let unknown = db.json("SELECT CAST(raw AS TEXT) FROM events WHERE kind = 'error' AND CAST(raw AS TEXT) LIKE '%brand-new-problem%'").await;
    assert_eq!(unknown.unwrap()["errors"][0]["title"], "Something New");
    // The report reads disconnects without a code.
    let report = streamvault::report::build(&db.backend, &Default::default()).await;
    let report = report.unwrap();
    let slow = report
        .disconnects
        .iter()
        .find(|d| d.name == "SlowReader")
        .unwrap();
    assert_eq!((slow.code, slow.count), (None, 1));
}

both_backends!(compliance_holds_for_v2_posts, |db| async {
    // A delete that arrives before its Post: the Post is never stored.
    let early = file(&db, "early.jsonl", &[delete(1_600_000_000_000_000_600, 12)]);
    replay(&db, &[&early]);
    replay(&db, &[POSTS]);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 1600000000000000600")
            .await,
        0
    );
    assert!(db.text("SELECT CAST(tweet_arrived_at AS TEXT) FROM deletions WHERE tweet_id = 1600000000000000600").await.is_some());
    let notices = file(
        &db,
        "notices.jsonl",
        &[
            // The retweeted original was never archived: the cascade still erases the retweet.
            delete(1_600_000_000_000_000_100, 99),
            delete(1_600_000_000_000_000_001, 2_244_994_945),
            scrub_geo(12, 1_600_000_000_000_000_300),
            status_withheld(1_600_000_000_000_000_300, 12, &["IN"]),
        ],
    );
    replay(&db, &[&notices]);
    for gone in [1_600_000_000_000_000_200_i64, 1_600_000_000_000_000_001] {
        let n = db
            .int(&format!(
                "SELECT COUNT(*) FROM tweets WHERE tweet_id = {gone}"
            ))
            .await;
        assert_eq!(n, 0, "{gone} erased");
    }
    // 10 Posts minus the two superseded edit versions, minus the three erased here.
    assert_eq!(db.count("tweets").await, 10 - 2 - 1 - 2);
    // The full Post's text is gone from every table that could hold it.
    let copies = db
        .int("SELECT COUNT(*) FROM events WHERE CAST(raw AS TEXT) LIKE '%Full Post%'")
        .await;
    assert_eq!(copies, 0);
    let withheld = db.text("SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000300").await.unwrap();
    assert!(withheld.contains("IN"), "{withheld}");
});

both_backends!(a_scrub_strips_a_v2_geo_object, |db| async {
    replay(&db, &[POSTS]);
    let scrub = file(
        &db,
        "scrub.jsonl",
        &[scrub_geo(2_244_994_945, 1_600_000_000_000_000_001)],
    );
    replay(&db, &[&scrub]);
    let row = strings(
        &db,
        "SELECT COALESCE(CAST(longitude AS TEXT), 'NULL'), COALESCE(CAST(place AS TEXT), 'NULL'), \
         CAST(geo_scrubbed AS TEXT), CAST(located AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000001",
    )
    .await;
    assert_eq!(row[0][0], "NULL");
    assert_eq!(row[0][1], "NULL");
    assert!(["1", "true"].contains(&row[0][2].as_str()), "{row:?}");
    let raw = db
        .json("SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = 1600000000000000001")
        .await
        .unwrap();
    assert!(raw.get("geo").is_none(), "{raw}");
    assert_eq!(raw["text"], "@bob Full Post https://t.co/x");
    assert_eq!(db.int("SELECT tweets_scrubbed FROM geo_scrubs").await, 1);
});

/// What compliance decides about the archived Posts: ids, location (typed and in `raw`),
/// withheld countries.
async fn snapshot(db: &TestDb) -> Vec<Vec<String>> {
    strings(
        db,
        "SELECT CAST(tweet_id AS TEXT), CAST(longitude AS TEXT), CAST(place AS TEXT), \
         CAST(geo_scrubbed AS TEXT), CAST(withheld_in_countries AS TEXT), CAST(raw AS TEXT) \
         FROM tweets ORDER BY tweet_id",
    )
    .await
    .into_iter()
    .map(|mut r| {
        // The raw as a value: PostgreSQL's jsonb reorders keys.
        let raw: serde_json::Value = serde_json::from_str(&r[5]).unwrap();
        r[5] = raw.to_string();
        r
    })
    .collect()
}

both_backends!(v2_posts_and_notices_in_either_order, |db| async {
    let posts: Vec<String> = std::fs::read_to_string(POSTS)
        .unwrap()
        .lines()
        .map(Into::into)
        .collect();
    let notices = vec![
        delete(1_600_000_000_000_000_100, 99),
        delete(1_600_000_000_000_000_503, 2_244_994_945),
        scrub_geo(12, 1_600_000_000_000_000_600),
        scrub_geo(2_244_994_945, 1_600_000_000_000_000_001),
        status_withheld(1_600_000_000_000_000_300, 12, &["IN"]),
    ];
    let forward: Vec<String> = posts.iter().chain(&notices).cloned().collect();
    let backward: Vec<String> = forward.iter().rev().cloned().collect();
    let other = if db.is_postgres() {
        TestDb::postgres().await.unwrap()
    } else {
        TestDb::sqlite().await
    };
    let f = file(&db, "forward.jsonl", &forward);
    replay(&db, &[&f]);
    let b = file(&other, "backward.jsonl", &backward);
    replay(&other, &[&b]);
    let (a, b) = (snapshot(&db).await, snapshot(&other).await);
    assert_eq!(a, b);
    // 10 Posts, minus the retweet of the deleted original and the deleted edit with every
    // version of its chain.
    assert_eq!(a.len(), 6);
    assert!(
        a.iter().all(|r| !r[5].contains("\"geo\"")),
        "every located Post was scrubbed"
    );
    other.cleanup().await;
});
