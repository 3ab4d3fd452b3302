//! Collections imported with `replay` on both backends: our own fixtures in each shape twarc2
//! and v2 scripts write (tests/fixtures/import: response pages with `errors`, stream lines with
//! matching rules, flattened Posts, a gzip file mixing them with v1.1 statuses), and the real
//! twarc2 files in ../shared/reference/data/twarc2. Exact counts, re-imports that archive
//! nothing twice, and tombstones that keep deleted Posts out whatever the shape.

mod common;

use common::{TestDb, delete};
use std::path::PathBuf;
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{self, ReplayOptions, ReplaySummary};
use streamvault::store::PostTally;
use streamvault::with_store;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import/");
const TWARC2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/data/twarc2/"
);

fn fixtures() -> Vec<PathBuf> {
    ["page.jsonl", "stream.jsonl", "flat.jsonl", "mixed.jsonl.gz"]
        .iter()
        .map(|f| PathBuf::from(FIXTURES).join(f))
        .collect()
}

/// Imports `inputs` as the stream `import`, with the default line bound (1 MiB: a page is large).
async fn import(db: &TestDb, inputs: Vec<PathBuf>) -> ReplaySummary {
    import_with(db, inputs, Default::default()).await
}

/// [`import`] with the store following `policy` (the `[compliance]` choices).
async fn import_with(
    db: &TestDb,
    inputs: Vec<PathBuf>,
    policy: streamvault::compliance::Policy,
) -> ReplaySummary {
    let options = ReplayOptions {
        inputs,
        stream: "import".into(),
        max_line_bytes: 1 << 20,
        max_reject_bytes: 1 << 20,
        progress_bar: false,
    };
    let config = PipelineConfig::default();
    with_store!(db.backend.clone(), s => replay::replay(streamvault::store::Store::with_policy(s, policy), config, options).await).unwrap()
}

fn tally(new: u64, seen_again: u64, refused: u64, included_new: u64) -> PostTally {
    PostTally {
        new,
        seen_again,
        refused,
        included_new,
    }
}

async fn texts(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
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

/// A time column as `YYYY-MM-DDTHH:MM:SS` on either backend.
fn seconds(column: &str, db: &TestDb) -> String {
    if db.is_postgres() {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')")
    } else {
        format!("substr({column}, 1, 19)")
    }
}

both_backends!(every_shape_archives_exactly, |db| async {
    let s = import(&db, fixtures()).await;
    // page: 101, 102, 103 then 103 again and 104; stream: 401-403; flat: 501, 503, 504;
    // gzip: 601, 602 (v1.1), 603-605. Carried: the quoted 201 and the retweeted 502.
    assert_eq!(s.writer.posts, tally(15, 1, 0, 2));
    assert_eq!(db.count("tweets").await, 17);
    assert_eq!(db.count("users").await, 16);
    assert_eq!(db.count("tweet_matches").await, 6);
    let kinds = texts(
        &db,
        "SELECT kind, CAST(COUNT(*) AS TEXT) FROM events GROUP BY kind ORDER BY kind",
    )
    .await;
    assert_eq!(kinds, [["error", "1"], ["tweet", "16"]]);
    assert_eq!((s.writer.rejects, s.read.rejects()), (2, 2));
    let reasons: Vec<String> = s.read.reasons().into_iter().map(|(r, _)| r).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r == "tweet message malformed: data[N]: Post has no id")
    );
    assert!(reasons.iter().any(|r| r.starts_with("malformed JSON")));
    assert_eq!(s.read.error_entries, 2);
    collection_times(&db).await;
    carried_posts_are_rows_of_their_own(&db).await;
});

async fn collection_times(db: &TestDb) {
    let (first, last) = (seconds("first_seen_at", db), seconds("last_seen_at", db));
    let rows = texts(
        db,
        &format!(
            "SELECT CAST(tweet_id AS TEXT), {first}, {last} FROM tweets \
             WHERE tweet_id IN (1500000000000000101, 1500000000000000103, 1500000000000000201, \
             1500000000000000401, 1500000000000000502, 1500000000000000603) ORDER BY tweet_id"
        ),
    )
    .await;
    let row = |id: &str, f: &str, l: &str| vec![id.to_owned(), f.to_owned(), l.to_owned()];
    assert_eq!(
        rows,
        [
            row(
                "1500000000000000101",
                "2022-03-01T10:00:00",
                "2022-03-01T10:00:00"
            ),
            row(
                "1500000000000000103",
                "2022-03-01T10:00:00",
                "2022-03-01T10:05:00"
            ),
            row(
                "1500000000000000201",
                "2022-03-01T10:00:00",
                "2022-03-01T10:05:00"
            ),
            row(
                "1500000000000000401",
                "2022-03-02T08:00:00",
                "2022-03-02T08:00:05"
            ),
            row(
                "1500000000000000502",
                "2022-03-03T09:00:00",
                "2022-03-03T09:00:00"
            ),
            row(
                "1500000000000000603",
                "2022-03-04T00:00:00",
                "2022-03-04T00:00:00"
            ),
        ]
    );
    // Without __twarc (a stream line as the daemon receives it, v1.1): the replay's time.
    let today = db
        .int(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id IN (1500000000000000403, \
             1500000000000000601, 1500000000000000604) \
             AND first_seen_at > '2025-01-01T00:00:00.000000Z'",
        )
        .await;
    assert_eq!(today, 3);
}

async fn carried_posts_are_rows_of_their_own(db: &TestDb) {
    // Each Post's text is stored once: the quoting, retweeting and replying rows hold ids only.
    for (text, rows) in [
        ("the quoted cat, its own row", 1),
        ("the original cat", 2), // 502 itself, and 501's own "RT @judy: the original cat"
    ] {
        let n = db
            .int(&format!(
                "SELECT COUNT(*) FROM tweets WHERE CAST(raw AS TEXT) LIKE '%{text}%'"
            ))
            .await;
        assert_eq!(n, rows, "{text}");
    }
    let refs = texts(
        db,
        "SELECT CAST(tweet_id AS TEXT), COALESCE(CAST(quoted_status_id AS TEXT), '-'), \
         COALESCE(CAST(retweeted_status_id AS TEXT), '-'), \
         COALESCE(CAST(in_reply_to_status_id AS TEXT), '-'), COALESCE(CAST(place AS TEXT), '-') FROM tweets \
         WHERE tweet_id IN (1500000000000000101, 1500000000000000501, 1500000000000000503) \
         ORDER BY tweet_id",
    )
    .await;
    assert_eq!(refs[0][1], "1500000000000000201");
    assert_eq!(refs[1][2], "1500000000000000502");
    assert_eq!(refs[2][3], "1500000000000000502");
    assert!(refs[2][4].contains("Manhattan"), "{:?}", refs[2]);
    let media = db
        .int(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id = 1500000000000000503 \
             AND CAST(raw AS TEXT) LIKE '%reply.jpg%' AND CAST(raw AS TEXT) NOT LIKE '%\"author\":%'",
        )
        .await;
    assert_eq!(
        media, 1,
        "the flattened reply keeps its media, not its author"
    );
}

/// What an import must leave unchanged when it is repeated: every archived Post with its
/// content and first sighting, users, rule matches, deletions.
async fn archive_state(db: &TestDb) -> Vec<Vec<String>> {
    let first = seconds("first_seen_at", db);
    let mut state = texts(
        db,
        &format!("SELECT CAST(tweet_id AS TEXT), {first}, CAST(raw AS TEXT) FROM tweets ORDER BY tweet_id"),
    )
    .await;
    for table in ["users", "tweet_matches", "deletions"] {
        state.push(vec![table.to_owned(), db.count(table).await.to_string()]);
    }
    state
}

both_backends!(reimporting_archives_nothing_twice, |db| async {
    let first = import(&db, fixtures()).await;
    assert_eq!(first.writer.posts, tally(15, 1, 0, 2));
    let before = archive_state(&db).await;
    let again = import(&db, fixtures()).await;
    assert_eq!(again.writer.posts, tally(0, 16, 0, 0));
    assert_eq!(archive_state(&db).await, before);
    // An overlapping file: the second page alone (103 again, 104 again) and a new Post.
    let overlap = db.dir.path().join("overlap.jsonl");
    let page = std::fs::read_to_string(PathBuf::from(FIXTURES).join("page.jsonl")).unwrap();
    let second_page = page.lines().nth(1).unwrap();
    let fresh = r#"{"data":{"id":"1500000000000000701","text":"new"},"__twarc":{"retrieved_at":"2022-04-01T00:00:00Z"}}"#;
    std::fs::write(&overlap, format!("{second_page}\n{fresh}\n")).unwrap();
    let overlapping = import(&db, vec![overlap]).await;
    assert_eq!(overlapping.writer.posts, tally(1, 2, 0, 0));
    assert_eq!(db.count("tweets").await, 18);
});

/// Known deletes: a page's Post (102), a quoted Post only ever included (201), a stream line's
/// Post (402), a retweeted Post only ever inlined in flattened lines (502: its retweet 501
/// goes with it), v1.1 (601), a stream line and a flattened Post in the gzip file (604, 605).
const DELETED: [i64; 7] = [
    1500000000000000102,
    1500000000000000201,
    1500000000000000402,
    1500000000000000502,
    1500000000000000601,
    1500000000000000604,
    1500000000000000605,
];

both_backends!(tombstones_refuse_every_shape, |db| async {
    let notices: Vec<String> = DELETED.iter().map(|&id| delete(id, 1)).collect();
    let notices: Vec<&str> = notices.iter().map(String::as_str).collect();
    db.replay_lines(&notices).await;
    let s = import(&db, fixtures()).await;
    // Refused: 102, 402, 501 (retweets 502), 601, 604, 605; 201 and 502 were only carried.
    assert_eq!(s.writer.posts, tally(9, 1, 6, 0));
    assert_eq!(db.count("tweets").await, 9);
    let ids = DELETED
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let left = db
        .int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id IN ({ids}) \
             OR retweeted_status_id IN ({ids})"
        ))
        .await;
    assert_eq!(left, 0);
    for text in [
        "the quoted cat",
        "the original cat",
        "in a gzip file",
        "as twarc 1 saved",
    ] {
        let n = db
            .int(&format!(
                "SELECT COUNT(*) FROM tweets WHERE CAST(raw AS TEXT) LIKE '%{text}%'"
            ))
            .await;
        let carried = if text == "in a gzip file" { 1 } else { 0 }; // 603, the page's, stays
        assert_eq!(n, carried, "{text}");
    }
    let arrived = db
        .int("SELECT COUNT(*) FROM deletions WHERE tweet_arrived_at IS NOT NULL")
        .await;
    assert_eq!(
        arrived, 7,
        "every refused copy is noted as having turned up"
    );
    // Importing again changes nothing: still refused.
    let again = import(&db, fixtures()).await;
    assert_eq!(again.writer.posts, tally(0, 10, 6, 0));
    assert_eq!(db.count("tweets").await, 9);
});

/// The real twarc2 files, each imported on its own, and what each must do, worked out from the
/// files themselves: (file, Posts new, seen again, carried Posts new). Counted with every edit
/// version kept (`edits = "history"`): under the default, the older versions of the edited
/// Posts (edited_before.jsonl) are erased as they arrive (see tests/v2_edits.rs).
const REAL: [(&str, u64, u64, u64); 11] = [
    ("2sets.jsonl", 200, 0, 76),
    ("noflat.jsonl", 100, 0, 64),
    ("flat.jsonl", 0, 100, 0), // the same search as noflat, flattened
    ("streaming_output_with_error.jsonl", 7, 0, 4),
    ("edited.jsonl", 1, 0, 1),
    ("edited_before.jsonl", 0, 1, 0),
    ("edited_after.jsonl", 0, 1, 0),
    ("quoted_edit.jsonl", 1, 0, 0),
    ("geo_tweets.jsonl", 2, 0, 1),
    ("withheld.jsonl", 215, 0, 69),
    ("media_policy_violation_on.jsonl", 100, 0, 60),
];

both_backends!(real_twarc2_files_import_exactly, |db| async {
    assert!(
        PathBuf::from(TWARC2).is_dir(),
        "{TWARC2} is missing: ../shared must sit beside the clone"
    );
    let (mut rejects, mut errors) = (0, 0);
    let history = streamvault::compliance::Policy {
        keep_edit_history: true,
    };
    for (file, new, seen_again, carried) in REAL {
        let s = import_with(&db, vec![PathBuf::from(TWARC2).join(file)], history).await;
        assert_eq!(s.writer.posts, tally(new, seen_again, 0, carried), "{file}");
        rejects += s.writer.rejects;
        errors += s.read.error_entries;
    }
    assert_eq!(db.count("tweets").await, 901);
    assert_eq!(db.count("users").await, 1118);
    // The line cut short in streaming_output_with_error.jsonl; the pages' errors entries.
    assert_eq!((rejects, errors), (1, 7));
    assert_eq!(
        db.int("SELECT COUNT(*) FROM events WHERE kind = 'error'")
            .await,
        5
    );
    // flat.jsonl, imported after noflat.jsonl, changed no Post: the rows are the pages'.
    let flat_first = db
        .int(
            "SELECT COUNT(*) FROM tweets WHERE CAST(raw AS TEXT) LIKE '%\"author\":%' \
             OR CAST(raw AS TEXT) LIKE '%\"in_reply_to_user\":%' OR CAST(raw AS TEXT) LIKE '%!_!_twarc%' ESCAPE '!'",
        )
        .await;
    assert_eq!(flat_first, 0);
});

/// Runs the real binary with `args` against the test's archive; its standard output.
fn streamvault(db: &TestDb, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(args)
        .args(["--database", &db.url])
        .current_dir(db.dir.path())
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

both_backends!(
    the_binary_prints_the_summary_and_the_readme_export_lists_the_ids,
    |db| async {
        let files: Vec<String> = fixtures()
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let mut args = vec!["replay", "--stream", "climate-2021"];
        args.extend(files.iter().map(String::as_str));
        let out = streamvault(&db, &args);
        assert!(
            out.contains(
                "posts:       15 new, 1 seen again, 0 refused by a tombstone (2 carried Posts new)"
            ),
            "{out}"
        );
        assert!(out.contains("  rejects:     2\n"), "{out}");
        assert!(
            out.contains("1  tweet message malformed: data[N]: Post has no id"),
            "{out}"
        );
        assert!(out.contains("errors:      2 entries recorded"), "{out}");
        args.insert(1, "--json");
        let again: serde_json::Value = serde_json::from_str(&streamvault(&db, &args)).unwrap();
        assert_eq!(
            (
                &again["posts_new"],
                &again["posts_seen_again"],
                &again["posts_refused_by_tombstone"]
            ),
            (
                &serde_json::json!(0),
                &serde_json::json!(16),
                &serde_json::json!(0)
            )
        );
        assert_eq!(again["rejects_by_reason"].as_array().map(Vec::len), Some(2));
        // The README's command for the ids of a collection's Posts that may be shared.
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let command = readme
            .lines()
            .find_map(|l| l.strip_prefix("streamvault export --stream climate-2021 "))
            .expect("the README's export command");
        let mut args = vec!["export", "--stream", "climate-2021"];
        args.extend(command.split_whitespace());
        streamvault(&db, &args);
        let ids = std::fs::read_to_string(db.dir.path().join("climate-2021.ids")).unwrap();
        let listed = ids
            .lines()
            .filter(|l| l.starts_with("15000000000000"))
            .count();
        assert_eq!(listed, 15, "{ids}");
    }
);
