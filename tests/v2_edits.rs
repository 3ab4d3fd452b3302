//! Edit chains under both `[compliance] edits` settings: with `latest` no byte of an older
//! version is left in the SQLite files or in PostgreSQL's tuples, live or dead; with `history`
//! older versions stay, out of `tweets_visible`. Under either, what is erased (an older version
//! arriving late under `latest`; every kept version when one is deleted under `history`)
//! leaves no byte behind either.

mod common;
#[path = "v2_compliance/lines.rs"]
mod lines;
#[path = "v2_compliance/views.rs"]
mod views;

use common::pg_pages::{enable_pageinspect, purge_until_gone, tuples_holding};
use common::{BIG, TestDb};
use lines::{post, tweet_edit, tweet_event};
use streamvault::compliance::Policy;
use views::{ids_of, visible};

const MARKER: &str = "ZQX-old-version-marker-51c9";
/// The text of the second version of the chain deleted under `history`.
const MARKER_V2: &str = "ZQX-second-version-marker-8e2d";
/// The text of an older version that arrives after its edit under `latest`.
const MARKER_LATE: &str = "ZQX-late-version-marker-3b7c";
const LATEST: Policy = Policy {
    keep_edit_history: false,
};
const HISTORY: Policy = Policy {
    keep_edit_history: true,
};

/// Neighbours around the first version, so its page is shared and survives.
fn archive(with_marker: bool) -> Vec<String> {
    let mut lines: Vec<String> = (1..150)
        .map(|i| post(BIG + 100 + i, 5, &format!("neighbour {i}"), &[]))
        .collect();
    let text = if with_marker { MARKER } else { "plain" };
    lines.insert(70, post(BIG, 7, text, &[]));
    lines
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_leaves_no_byte_of_an_older_version_in_the_sqlite_files() {
    let db = TestDb::sqlite().await;
    db.replay_with(&refs(&archive(true)), LATEST).await;
    assert!(!db.files_containing(MARKER).is_empty(), "written first");
    // The edit arrives as a new Post whose history names the first version, and the
    // compliance stream's event says the same.
    let edit = post(BIG + 1, 7, "the edited text", &[BIG, BIG + 1]);
    db.replay_with(&[&edit, &tweet_edit(&[BIG, BIG + 1], 0)], LATEST)
        .await;
    db.backend.close().await;
    assert_eq!(db.files_containing(MARKER), Vec::<String>::new());
    let reopened = streamvault::cli::open_migrated(&db.url).await.unwrap();
    let count = |sql: &'static str| {
        let r = &reopened;
        async move {
            streamvault::query::run(r, sql).await.unwrap().rows[0][0]
                .clone()
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM tweets").await, "150");
    assert_eq!(
        count("SELECT COUNT(*) FROM edit_chains").await,
        "2",
        "both ids stay as the audit trail"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM compliance_actions WHERE kind = 'tweet_edit'").await,
        "1"
    );
    reopened.close().await;
}

both_backends!(history_keeps_older_versions_out_of_view, |db| async {
    db.replay_with(&refs(&archive(false)), HISTORY).await;
    let edit = post(BIG + 1, 7, "edited", &[BIG, BIG + 1]);
    let third = post(BIG + 2, 7, "edited again", &[BIG, BIG + 1, BIG + 2]);
    db.replay_with(&[&third, &edit], HISTORY).await;
    let stored = ids_of(
        &db,
        "SELECT CAST(tweet_id AS TEXT) FROM tweets WHERE tweet_id < 1234567890123456889",
    )
    .await;
    assert_eq!(stored, [BIG, BIG + 1, BIG + 2]);
    let shown: Vec<i64> = visible(&db)
        .await
        .into_iter()
        .filter(|i| *i < BIG + 100)
        .collect();
    assert_eq!(shown, [BIG + 2], "the newest version alone is shown");
});

both_backends!(
    latest_erases_an_older_version_arriving_after_the_edit,
    |db| async {
        // The event first, then the newest version, then the first version, late.
        db.replay_with(&[&tweet_edit(&[BIG, BIG + 1], 0)], LATEST)
            .await;
        db.replay_with(&[&post(BIG + 1, 7, "new", &[BIG, BIG + 1])], LATEST)
            .await;
        db.replay_with(&[&post(BIG, 7, "old, late", &[])], LATEST)
            .await;
        let stored = ids_of(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets").await;
        assert_eq!(stored, [BIG + 1]);
        let audit = db.actions().await;
        assert_eq!(audit[0], ("tweet_edit".into(), BIG, 0, false));
        assert_eq!(audit.last().unwrap(), &("tweet_edit".into(), BIG, 1, true));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_leaves_no_postgres_tuple_holding_an_older_version() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    enable_pageinspect(&db).await;
    db.replay_with(&refs(&archive(true)), LATEST).await;
    assert_eq!(tuples_holding(&db, "tweets", MARKER).await, 1);
    let edit = post(BIG + 1, 7, "the edited text", &[BIG, BIG + 1]);
    let summary = db.replay_with(&[&edit], LATEST).await;
    assert_eq!(summary.writer.purges, 1, "an erasure owes a purge");
    assert_eq!(purge_until_gone(&db, "tweets", MARKER).await, 0);
    assert_eq!(db.count("tweets").await, 150);
    db.cleanup().await;
}

/// The erasures of both settings, after [`archive`]: under `history` the chain `BIG`, `BIG + 1`
/// (both kept, both marked) is deleted through one version; under `latest` the older version of
/// another chain arrives after its newest and is erased as it lands.
async fn erase_under_both_settings(db: &TestDb) {
    let edit = post(BIG + 1, 7, MARKER_V2, &[BIG, BIG + 1]);
    db.replay_with(&[&edit, &tweet_edit(&[BIG, BIG + 1], 0)], HISTORY)
        .await;
    assert_eq!(db.count("tweets").await, 151, "history keeps both versions");
    db.replay_with(&[&tweet_event("delete", BIG + 1, 7, 0)], HISTORY)
        .await;
    let (n1, n2) = (BIG + 300, BIG + 301);
    db.replay_with(&[&post(n2, 8, "newest", &[n1, n2])], LATEST)
        .await;
    db.replay_with(&[&post(n1, 8, MARKER_LATE, &[])], LATEST)
        .await;
    let sql = format!(
        "SELECT CAST(tweet_id AS TEXT) FROM tweets WHERE tweet_id IN ({BIG}, {}, {n1}, {n2})",
        BIG + 1
    );
    let stored = ids_of(db, &sql).await;
    assert_eq!(
        stored,
        [n2],
        "the deleted chain and the late version are gone"
    );
    assert_eq!(db.count("deletions").await, 2, "both versions tombstoned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasures_under_both_settings_leave_no_byte_in_the_sqlite_files() {
    let db = TestDb::sqlite().await;
    db.replay_with(&refs(&archive(true)), HISTORY).await;
    erase_under_both_settings(&db).await;
    db.backend.close().await;
    for marker in [MARKER, MARKER_V2, MARKER_LATE] {
        assert_eq!(
            db.files_containing(marker),
            Vec::<String>::new(),
            "{marker}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasures_under_both_settings_leave_no_postgres_tuple() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    enable_pageinspect(&db).await;
    db.replay_with(&refs(&archive(true)), HISTORY).await;
    erase_under_both_settings(&db).await;
    for marker in [MARKER, MARKER_V2, MARKER_LATE] {
        assert_eq!(purge_until_gone(&db, "tweets", marker).await, 0, "{marker}");
    }
    db.cleanup().await;
}
