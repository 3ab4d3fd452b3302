//! Direct messages and their delete notices, end to end on both backends: a message's content
//! lives in `direct_messages` only, and a delete erases it (physically, after the purge) whatever
//! the order in which message and notice arrive, once, with its audit row.

mod common;

use common::pg_pages::{enable_pageinspect, purge_until_gone, tuples_holding};
use common::{BIG, TestDb, tweet};

const MARKER: &str = "ZQX-dm-marker-4b1e";

/// A direct message as user streams send it (`sender`/`recipient` objects included).
fn dm(id: i64, text: &str) -> String {
    serde_json::json!({"direct_message": {
        "id": id, "id_str": id.to_string(), "text": text,
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "sender_id": 783214, "sender_id_str": "783214", "sender_screen_name": "alice",
        "recipient_id": 2244994945_i64, "recipient_id_str": "2244994945",
        "sender": {"id": 783214, "id_str": "783214", "screen_name": "alice"},
        "recipient": {"id": 2244994945_i64, "id_str": "2244994945", "screen_name": "bob"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": []}
    }})
    .to_string()
}

/// A direct-message delete exactly as real user streams send it, with the `*_str` twins.
fn dm_delete(id: i64, user: i64) -> String {
    format!(
        r#"{{"delete":{{"direct_message":{{"id":{id},"id_str":"{id}","user_id":{user},"user_id_str":"{user}"}}}}}}"#
    )
}

/// The same notice without the `*_str` twins, as some streams send it.
fn dm_delete_bare(id: i64, user: i64) -> String {
    format!(r#"{{"delete":{{"direct_message":{{"id":{id},"user_id":{user}}}}}}}"#)
}

async fn dm_ids(db: &TestDb) -> Vec<i64> {
    db.rows("SELECT CAST(dm_id AS TEXT) FROM direct_messages ORDER BY direct_messages.dm_id")
        .await
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

/// `dm_deletions` of one message: (user_id, arrived_before_message, message arrived later).
async fn deletion(db: &TestDb, id: i64) -> Option<(Option<i64>, bool, bool)> {
    db.rows(&format!(
        "SELECT CAST(user_id AS TEXT), CASE WHEN arrived_before_message THEN 'y' ELSE 'n' END, \
         CASE WHEN message_arrived_at IS NULL THEN 'n' ELSE 'y' END \
         FROM dm_deletions WHERE dm_id = {id}"
    ))
    .await
    .into_iter()
    .next()
    .map(|r| {
        (
            r[0].as_deref().map(|u| u.parse().unwrap()),
            r[1].as_deref() == Some("y"),
            r[2].as_deref() == Some("y"),
        )
    })
}

/// Rows anywhere in `events` whose raw still holds `needle`.
async fn events_holding(db: &TestDb, needle: &str) -> i64 {
    db.int(&format!(
        "SELECT COUNT(*) FROM events WHERE CAST(raw AS TEXT) LIKE '%{needle}%'"
    ))
    .await
}

both_backends!(
    a_direct_message_is_stored_once_with_its_content,
    |db| async {
        db.replay_lines(&[&dm(BIG, MARKER), &dm(BIG, MARKER)]).await;
        assert_eq!(dm_ids(&db).await, vec![BIG]);
        let row = &db
            .rows(&format!(
                "SELECT text, CAST(sender_id AS TEXT), CAST(recipient_id AS TEXT), \
             CASE WHEN created_at IS NULL THEN 'n' ELSE 'y' END FROM direct_messages \
             WHERE dm_id = {BIG}"
            ))
            .await[0];
        assert_eq!(row[0].as_deref(), Some(MARKER));
        assert_eq!(row[1].as_deref(), Some("783214"));
        assert_eq!(row[2].as_deref(), Some("2244994945"));
        assert_eq!(row[3].as_deref(), Some("y"));
        let raw = db
            .json(&format!(
                "SELECT CAST(raw AS TEXT) FROM direct_messages WHERE dm_id = {BIG}"
            ))
            .await
            .unwrap();
        assert_eq!(raw["sender"]["screen_name"], "alice");
        // Its events keep the id, not the content.
        assert_eq!(
            db.int(&format!(
                "SELECT COUNT(*) FROM events WHERE kind = 'direct_message' AND dm_id = {BIG} \
             AND raw IS NULL"
            ))
            .await,
            2
        );
        assert_eq!(events_holding(&db, MARKER).await, 0);
    }
);

both_backends!(
    a_delete_after_the_message_erases_it_and_is_audited,
    |db| async {
        db.replay_lines(&[&dm(BIG, MARKER), &dm(BIG + 1, "kept")])
            .await;
        db.replay_lines(&[&dm_delete(BIG, 456)]).await;
        assert_eq!(dm_ids(&db).await, vec![BIG + 1]);
        assert_eq!(deletion(&db, BIG).await, Some((Some(456), false, false)));
        assert_eq!(
            db.actions().await,
            vec![("dm_delete".into(), BIG, 1, false)]
        );
        // The notice is a `delete` event naming the message; no content is left anywhere.
        assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM events WHERE kind = 'delete' AND dm_id = {BIG} AND tweet_id IS NULL"
        ))
        .await,
        1
    );
        assert_eq!(events_holding(&db, MARKER).await, 0);
        assert_eq!(db.count("rejects").await, 0);
    }
);

both_backends!(a_message_after_its_delete_is_never_stored, |db| async {
    db.replay_lines(&[&dm_delete_bare(BIG, 456)]).await;
    assert_eq!(deletion(&db, BIG).await, Some((Some(456), true, false)));
    db.replay_lines(&[&dm(BIG, MARKER)]).await;
    assert_eq!(dm_ids(&db).await, Vec::<i64>::new());
    assert_eq!(deletion(&db, BIG).await, Some((Some(456), true, true)));
    assert_eq!(
        db.actions().await,
        vec![
            ("dm_delete".into(), BIG, 0, false),
            ("dm_delete".into(), BIG, 1, true)
        ]
    );
    assert_eq!(events_holding(&db, MARKER).await, 0);
    assert_eq!(db.count("rejects").await, 0);
});

both_backends!(order_within_one_batch_is_honoured, |db| async {
    // Notice first: the message is refused on arrival (deferred). Message first: the notice
    // erases it (its own row).
    db.replay_lines(&[
        &dm_delete(BIG, 1),
        &dm(BIG, MARKER),
        &dm(BIG + 1, MARKER),
        &dm_delete_bare(BIG + 1, 2),
    ])
    .await;
    assert_eq!(dm_ids(&db).await, Vec::<i64>::new());
    assert_eq!(deletion(&db, BIG).await, Some((Some(1), true, true)));
    assert_eq!(deletion(&db, BIG + 1).await, Some((Some(2), false, false)));
    let mut got = db.actions().await;
    got.sort();
    assert_eq!(
        got,
        vec![
            ("dm_delete".into(), BIG, 0, false),
            ("dm_delete".into(), BIG, 1, true),
            ("dm_delete".into(), BIG + 1, 1, false),
        ]
    );
    assert_eq!(events_holding(&db, MARKER).await, 0);
});

both_backends!(the_same_delete_twice_changes_nothing, |db| async {
    db.replay_lines(&[&dm(BIG, MARKER)]).await;
    db.replay_lines(&[&dm_delete(BIG, 456), &dm_delete_bare(BIG, 456)])
        .await;
    let after_first = (
        dm_ids(&db).await,
        deletion(&db, BIG).await,
        db.actions().await,
    );
    db.replay_lines(&[&dm_delete(BIG, 456)]).await;
    let after_second = (
        dm_ids(&db).await,
        deletion(&db, BIG).await,
        db.actions().await,
    );
    assert_eq!(after_first, after_second);
    assert_eq!(db.count("dm_deletions").await, 1);
    assert_eq!(after_second.2, vec![("dm_delete".into(), BIG, 1, false)]);
});

both_backends!(
    a_dm_delete_without_a_usable_id_is_a_reject_with_a_reason,
    |db| async {
        db.replay_lines(&[
            r#"{"delete":{"direct_message":{"user_id":456,"user_id_str":"456"}}}"#,
            r#"{"direct_message":{"text":"no id at all"}}"#,
        ])
        .await;
        let reasons = db
            .rows("SELECT reason FROM rejects ORDER BY reject_id")
            .await;
        assert_eq!(reasons.len(), 2);
        assert!(
            reasons[0][0].as_deref().unwrap().contains("direct_message"),
            "{reasons:?}"
        );
        assert_eq!(db.count("events").await, 0);
        assert_eq!(db.count("dm_deletions").await, 0);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_leaves_no_byte_in_the_sqlite_files() {
    let db = TestDb::sqlite().await;
    // Neighbours on the same pages, so that the pages survive the erasure.
    let mut lines: Vec<String> = (1..100)
        .map(|i| dm(BIG + i, &format!("neighbour {i}")))
        .chain((1..100).map(|i| tweet(BIG + i, 5, &format!("status {i}"))))
        .collect();
    lines.insert(50, dm(BIG, MARKER));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    assert!(
        !db.files_containing(MARKER).is_empty(),
        "the marker is written first"
    );
    // The replay purges the erased content as the daemon does (rows_erased > 0).
    let summary = db.replay_lines(&[&dm_delete(BIG, 456)]).await;
    assert_eq!(summary.writer.purges, 1);
    assert_eq!(db.files_containing(MARKER), Vec::<String>::new());
    assert_eq!(db.count("direct_messages").await, 99, "the neighbours stay");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_purge_leaves_no_tuple_holding_a_deleted_message() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    enable_pageinspect(&db).await;
    let tuples_with_marker = |table| tuples_holding(&db, table, MARKER);
    let lines: Vec<String> = (1..20)
        .map(|i| dm(BIG + i, "neighbour"))
        .chain([dm(BIG, MARKER)])
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    assert_eq!(tuples_with_marker("direct_messages").await, 1);
    assert_eq!(
        tuples_with_marker("events").await,
        0,
        "events hold ids only"
    );
    let summary = db.replay_lines(&[&dm_delete_bare(BIG, 456)]).await;
    assert_eq!(summary.writer.purges, 1);
    let left = purge_until_gone(&db, "direct_messages", MARKER).await;
    assert_eq!(left, 0, "no tuple, live or dead, holds the content");
    db.cleanup().await;
}

both_backends!(
    the_audit_report_counts_dm_deletes_as_a_kind_of_their_own,
    |db| async {
        db.replay_lines(&[&dm(BIG, MARKER), &dm_delete(BIG, 456)])
            .await;
        db.replay_lines(&[&dm_delete_bare(BIG + 1, 456), &dm(BIG + 1, "late")])
            .await;
        let report =
            streamvault::report::build(&db.backend, &streamvault::report::ReportWindow::default())
                .await
                .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&report.render(streamvault::report::ReportFormat::Json)).unwrap();
        let kinds = json["compliance"]["by_kind"].as_array().unwrap();
        let names: Vec<&str> = kinds.iter().map(|k| k["kind"].as_str().unwrap()).collect();
        // The four status kinds first, as always; then the direct-message deletes.
        assert_eq!(
            names,
            [
                "delete",
                "scrub_geo",
                "status_withheld",
                "user_withheld",
                "dm_delete"
            ]
        );
        let dm = &kinds[4];
        assert_eq!(
            (dm["actions"].as_u64(), dm["deferred"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(dm["rows_affected"].as_u64(), Some(2));
        assert_eq!(json["compliance"]["total_actions"].as_u64(), Some(3));
    }
);
