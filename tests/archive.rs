//! The archive pipeline on both backends: every message kind, bad input, batching, dedup.

mod common;

use common::{BIG, TestDb, quote, retweet, tweet};
use streamvault::pipeline::PipelineConfig;

const ALL_KINDS: &[u8] = include_bytes!("fixtures/all_kinds.jsonl");
const BAD_INPUT: &[u8] = include_bytes!("fixtures/bad_input.jsonl");

async fn kinds(db: &TestDb) -> Vec<(String, i64)> {
    db.rows("SELECT kind, CAST(COUNT(*) AS TEXT) FROM events GROUP BY kind ORDER BY kind")
        .await
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_ref().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

both_backends!(every_message_kind_is_archived, |db| async {
    events_by_kind(&db).await;
    statuses_once_and_raw_where_it_belongs(&db).await;
    typed_columns(&db).await;
    site_stream_envelopes_and_per_kind_tables(&db).await;
    user_events_and_profiles(&db).await;
});

/// The replay's counts and the events by kind.
async fn events_by_kind(db: &TestDb) {
    let summary = db.replay_bytes(ALL_KINDS, PipelineConfig::default()).await;
    assert_eq!(summary.lines, 28);
    assert_eq!(summary.keepalives, 1);
    let expected: Vec<(String, i64)> = [
        ("control", 1),
        ("delete", 1),
        ("direct_message", 1),
        ("disconnect", 2),
        ("event", 5),
        ("friends", 3),
        ("limit", 1),
        ("scrub_geo", 1),
        ("status_withheld", 1),
        ("tweet", 6),
        ("unknown", 1),
        ("user_withheld", 1),
        ("warning", 3),
    ]
    .iter()
    .map(|(k, n)| (k.to_string(), *n))
    .collect();
    assert_eq!(kinds(db).await, expected);
    assert_eq!(db.count("rejects").await, 0);
}

/// Every status once; which events keep their raw; direct messages and unknown kinds.
async fn statuses_once_and_raw_where_it_belongs(db: &TestDb) {
    // Every status, top-level or embedded, exactly once: BIG..BIG+8 (BIG+7 from a favorite).
    let ids = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweets.tweet_id")
        .await;
    let ids: Vec<i64> = ids
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, (0..=8).map(|i| BIG + i).collect::<Vec<_>>());

    // Statuses and direct messages keep no raw in events (their content lives in `tweets` and
    // `direct_messages`); everything else does.
    assert_eq!(
        db.int(
            "SELECT COUNT(*) FROM events WHERE kind IN ('tweet', 'direct_message') \
             AND raw IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        db.int(
            "SELECT COUNT(*) FROM events WHERE kind NOT IN ('tweet', 'direct_message') \
             AND raw IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        db.text("SELECT text FROM direct_messages WHERE dm_id = 5")
            .await
            .as_deref(),
        Some("psst")
    );
    let unknown = db
        .json("SELECT CAST(raw AS TEXT) FROM events WHERE kind = 'unknown'")
        .await
        .unwrap();
    assert_eq!(
        unknown["brand_new_type"]["anything"],
        serde_json::json!([1, 2, 3])
    );
}

/// The typed columns of statuses: text, location, retweet, quote, reply.
async fn typed_columns(db: &TestDb) {
    // Typed columns.
    let geo = &db
        .rows(&format!(
            "SELECT text, CAST(longitude AS TEXT), CAST(latitude AS TEXT), lang FROM tweets WHERE tweet_id = {}",
            BIG + 1
        ))
        .await[0];
    assert_eq!(
        geo[0].as_deref(),
        Some("the full text of a long status with location")
    );
    assert_eq!(
        geo[1].as_deref().map(|s| s.parse::<f64>().unwrap()),
        Some(13.405)
    );
    assert_eq!(
        geo[2].as_deref().map(|s| s.parse::<f64>().unwrap()),
        Some(52.52)
    );
    let rt = db
        .int(&format!(
            "SELECT retweeted_status_id FROM tweets WHERE tweet_id = {}",
            BIG + 3
        ))
        .await;
    assert_eq!(rt, BIG + 2);
    let qt = db
        .int(&format!(
            "SELECT quoted_status_id FROM tweets WHERE tweet_id = {}",
            BIG + 5
        ))
        .await;
    assert_eq!(qt, BIG + 4);
    let reply = db
        .int(&format!(
            "SELECT in_reply_to_status_id FROM tweets WHERE tweet_id = {}",
            BIG + 6
        ))
        .await;
    assert_eq!(reply, BIG);
}

/// Site-stream envelopes, and the per-kind tables: disconnects, limits, warnings.
async fn site_stream_envelopes_and_per_kind_tables(db: &TestDb) {
    // Site-stream envelopes.
    let for_user = db.rows("SELECT kind, CAST(for_user AS TEXT) FROM events WHERE for_user IS NOT NULL ORDER BY event_id").await;
    assert_eq!(
        for_user,
        vec![
            vec![Some("friends".into()), Some("1888".into())],
            vec![Some("tweet".into()), Some("9160152".into())],
        ]
    );

    // Per-kind tables.
    let disconnects = db
        .rows("SELECT CAST(code AS TEXT), code_name, stream_name FROM disconnects ORDER BY disconnects.code")
        .await;
    assert_eq!(
        disconnects[0],
        vec![
            Some("4".into()),
            Some("Stall".into()),
            Some("filter-1".into())
        ]
    );
    assert_eq!(disconnects[1][1].as_deref(), Some("Unknown"));
    assert_eq!(db.int("SELECT track FROM limits").await, 1234);
    let warnings = db.rows("SELECT code, CAST(percent_full AS TEXT), CAST(user_id AS TEXT) FROM warnings ORDER BY code").await;
    assert_eq!(
        warnings[0],
        vec![Some("FALLING_BEHIND".into()), Some("60".into()), None]
    );
    assert_eq!(
        warnings[1],
        vec![
            Some("FOLLOWS_OVER_LIMIT".into()),
            None,
            Some("2244994945".into())
        ]
    );
    assert_eq!(warnings[2][0].as_deref(), Some("SOMETHING_NEW"));
}

/// User events, and the latest profile seen.
async fn user_events_and_profiles(db: &TestDb) {
    let events = db.rows("SELECT event, CAST(source_user_id AS TEXT), CAST(target_object_id AS TEXT) FROM user_events ORDER BY event").await;
    let names: Vec<_> = events.iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "access_revoked",
            "favorite",
            "follow",
            "list_member_added",
            "user_update"
        ]
    );
    assert_eq!(
        events[1][2].as_deref(),
        Some((BIG + 7).to_string().as_str())
    );
    // The favorited status lives in tweets only: the event keeps a reference.
    let fav = db
        .text("SELECT CAST(raw AS TEXT) FROM user_events WHERE event = 'favorite'")
        .await
        .unwrap();
    assert!(!fav.contains("a favorited status"));
    // The latest profile seen wins: a later user_update refreshes it.
    let update = std::str::from_utf8(ALL_KINDS)
        .unwrap()
        .lines()
        .nth(19)
        .unwrap()
        .to_owned();
    assert!(update.contains("user_update"));
    db.replay_lines(&[&update]).await;
    let bio = db
        .json("SELECT CAST(raw AS TEXT) FROM users WHERE user_id = 2244994945")
        .await
        .unwrap();
    assert_eq!(bio["description"], "updated bio");
    assert_eq!(
        db.text("SELECT screen_name FROM users WHERE user_id = 783214")
            .await
            .as_deref(),
        Some("bob")
    );
}

both_backends!(
    bad_input_is_kept_as_rejects_and_the_run_goes_on,
    |db| async {
        let summary = db.replay_bytes(BAD_INPUT, PipelineConfig::default()).await;
        assert_eq!(summary.lines, 7);
        let rejects = db
            .rows("SELECT reason FROM rejects ORDER BY reject_id")
            .await;
        let reasons: Vec<String> = rejects.into_iter().map(|r| r[0].clone().unwrap()).collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(reasons[0].starts_with("malformed JSON"), "{}", reasons[0]);
        assert!(reasons[1].starts_with("invalid UTF-8"), "{}", reasons[1]);
        assert_eq!(reasons[2], "valid JSON but not an object");
        assert!(
            reasons[3].starts_with("delete message malformed"),
            "{}",
            reasons[3]
        );
        assert!(
            reasons[4].contains("exceeds ingest.max_line_bytes"),
            "{}",
            reasons[4]
        );
        // Byte for byte, invalid UTF-8 included.
        let raw: Vec<u8> = match &db.backend {
            streamvault::store::Backend::Sqlite(s) => {
                sqlx::query_scalar("SELECT raw FROM rejects ORDER BY reject_id LIMIT 1 OFFSET 1")
                    .fetch_one(s.pool())
                    .await
                    .unwrap()
            }
            streamvault::store::Backend::Postgres(s) => {
                sqlx::query_scalar("SELECT raw FROM rejects ORDER BY reject_id LIMIT 1 OFFSET 1")
                    .fetch_one(s.pool())
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            raw,
            b"{\"text\": \"bad \xff\xfe bytes\", \"id_str\": \"9\"}"
        );
        let oversize = db.int("SELECT MAX(LENGTH(raw)) FROM rejects").await;
        assert_eq!(oversize, 70_000 + 25);
        // The lines around the bad ones are archived.
        assert_eq!(db.count("deletions").await, 1);
        assert_eq!(
            db.text("SELECT text FROM tweets WHERE tweet_id = 11")
                .await
                .as_deref(),
            Some("still archived after the bad lines")
        );
    }
);

both_backends!(a_status_seen_again_is_not_duplicated, |db| async {
    let original = tweet(BIG, 1, "original");
    let lines = [
        original.clone(),
        retweet(BIG + 1, 2, &original),
        retweet(BIG + 2, 3, &original),
        original.clone(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    let first = db
        .text(&format!(
            "SELECT CAST(first_seen_at AS TEXT) FROM tweets WHERE tweet_id = {BIG}"
        ))
        .await;
    db.replay_lines(&[&original]).await;
    assert_eq!(db.count("tweets").await, 3);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM events WHERE kind = 'tweet'")
            .await,
        5
    );
    let seen = db.rows(&format!("SELECT CAST(first_seen_at AS TEXT), CAST(last_seen_at AS TEXT) FROM tweets WHERE tweet_id = {BIG}")).await;
    assert_eq!(seen[0][0], first);
    assert!(seen[0][1] > seen[0][0], "last_seen_at moves on: {seen:?}");
    // Carriers keep a reference, not a second copy of the original's text.
    let raw = db
        .json(&format!(
            "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {}",
            BIG + 1
        ))
        .await
        .unwrap();
    assert_eq!(
        raw["retweeted_status"],
        serde_json::json!({"id": BIG, "id_str": BIG.to_string()})
    );
    assert_eq!(db.count("users").await, 3);
});

both_backends!(quotes_are_stored_with_their_quoted_status, |db| async {
    let original = tweet(BIG, 1, "quoted words");
    db.replay_lines(&[&quote(BIG + 1, 2, &original)]).await;
    assert_eq!(
        db.text(&format!("SELECT text FROM tweets WHERE tweet_id = {BIG}"))
            .await
            .as_deref(),
        Some("quoted words")
    );
    let raw = db
        .json(&format!(
            "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {}",
            BIG + 1
        ))
        .await
        .unwrap();
    assert_eq!(raw["quoted_status"]["id_str"], BIG.to_string());
    assert!(raw["quoted_status"].get("text").is_none());
});

both_backends!(batches_split_by_size_and_lose_nothing, |db| async {
    let lines: Vec<String> = (0..2500)
        .map(|i| tweet(BIG + i, i % 17, &format!("status {i}")))
        .collect();
    let config = PipelineConfig {
        batch_size: 100,
        channel_capacity: 10,
        ..PipelineConfig::default()
    };
    let summary = db.replay_bytes(lines.join("\r\n").as_bytes(), config).await;
    assert_eq!(summary.writer.batches, 25);
    assert_eq!(summary.writer.records, 2500);
    assert_eq!(db.count("tweets").await, 2500);
    assert_eq!(db.count("events").await, 2500);
    assert_eq!(db.count("users").await, 17);
    // events keep arrival order.
    let ordered = db.int("SELECT COUNT(*) FROM events e JOIN events f ON f.event_id = e.event_id + 1 WHERE f.tweet_id < e.tweet_id").await;
    assert_eq!(ordered, 0);
});

both_backends!(
    files_replayed_in_whole_batches_keep_arrival_order_across_files,
    |db| async {
        // Batches of 7 over files of 10, 3 and 12 lines: batches straddle file boundaries and the
        // last one is partial. The reader makes these batches itself; nothing is lost or reordered.
        let mut files = Vec::new();
        let mut expected = Vec::new();
        for (f, count) in [10i64, 3, 12].into_iter().enumerate() {
            let lines: Vec<String> = (0..count)
                .map(|i| {
                    let id = BIG + f as i64 * 100 + i;
                    expected.push(id);
                    tweet(id, 7, &format!("file {f} line {i}"))
                })
                .collect();
            let path = db.dir.path().join(format!("part-{f}.jsonl"));
            std::fs::write(&path, lines.join("\n")).unwrap();
            files.push(path);
        }
        let config = PipelineConfig {
            batch_size: 7,
            ..PipelineConfig::default()
        };
        let summary = db.replay_files(files, config).await;
        assert_eq!(summary.writer.events, 25);
        assert_eq!(summary.writer.batches, 4, "25 records in batches of 7");
        let in_order: Vec<i64> = db
            .rows("SELECT CAST(tweet_id AS TEXT) FROM events ORDER BY event_id")
            .await
            .iter()
            .map(|r| r[0].as_ref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(in_order, expected);
    }
);
