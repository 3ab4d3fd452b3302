//! The v2 compliance streams' events applied to the archive, on both backends: every event type
//! in both orders with the data, states toggled, edits under both settings, and the views for
//! showing and sharing.

mod common;
#[path = "v2_compliance/deferred.rs"]
mod deferred;
#[path = "v2_compliance/lines.rs"]
mod lines;
#[path = "v2_compliance/toggles.rs"]
mod toggles;
#[path = "v2_compliance/views.rs"]
mod views;

use common::{BIG, TestDb};
use lines::*;
use views::{ids_of, visible, visible_in, visible_users};

/// Posts and events of every type, ids from `b`, users from `u`.
fn scenario(b: i64, u: i64) -> (Vec<String>, Vec<String>) {
    let data = vec![
        post(b + 1, u + 1, "deleted", &[]),
        post(b + 2, u + 1, "withheld in DE", &[]),
        post(b + 3, u + 2, "dropped", &[]),
        post(b + 4, u + 2, "dropped then undropped", &[]),
        post(b + 5, u + 3, "author deleted", &[]),
        post(b + 6, u + 4, "author protected", &[]),
        post(b + 7, u + 5, "author suspended then unsuspended", &[]),
        post(b + 10, u + 6, "first version", &[]),
        post(b + 11, u + 6, "second version", &[b + 10, b + 11]),
        geo_post(b + 20, u + 7, "located"),
        post(b + 21, u + 8, "author withheld in FR", &[]),
        post(b + 22, u + 9, "author changes profile", &[]),
    ];
    let events = vec![
        tweet_event("delete", b + 1, u + 1, 0),
        withheld(b + 2, u + 1, &["DE"]),
        tweet_event("drop", b + 3, u + 2, 0),
        tweet_event("undrop", b + 4, u + 2, 2),
        tweet_event("drop", b + 4, u + 2, 1),
        user_event("user_delete", u + 3, 0),
        user_event("user_protect", u + 4, 0),
        user_event("user_unsuspend", u + 5, 2),
        user_event("user_suspend", u + 5, 1),
        tweet_edit(&[b + 10, b + 11], 0),
        scrub_geo(u + 7, b + 20),
        user_withheld(u + 8, &["FR"]),
        profile(u + 9, "profile.description", "new description", 0),
    ];
    (data, events)
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// What the scenario leaves, ids relative to `b` and `u`.
async fn snapshot(db: &TestDb, b: i64, u: i64) -> Vec<String> {
    let range = |col: &str| format!("{col} BETWEEN {b} AND {}", b + 99);
    let rel = |v: Vec<i64>, by: i64| v.into_iter().map(|x| x - by).collect::<Vec<_>>();
    let stored = ids_of(
        db,
        &format!(
            "SELECT CAST(tweet_id AS TEXT) FROM tweets WHERE {}",
            range("tweet_id")
        ),
    )
    .await;
    let shown: Vec<i64> = visible(db)
        .await
        .into_iter()
        .filter(|i| (b..b + 100).contains(i))
        .collect();
    let users: Vec<i64> = visible_users(db)
        .await
        .into_iter()
        .filter(|i| (u..u + 100).contains(i))
        .collect();
    let withheld = db
        .text(&format!(
            "SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = {}",
            b + 2
        ))
        .await;
    let located = db
        .int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id = {} AND longitude IS NULL",
            b + 20
        ))
        .await;
    let description = db
        .json(&format!(
            "SELECT CAST(raw AS TEXT) FROM users WHERE user_id = {}",
            u + 9
        ))
        .await
        .map(|raw| raw["description"].clone());
    let kinds = db
        .rows(&format!(
            "SELECT kind FROM compliance_actions WHERE NOT deferred AND \
             (target_id BETWEEN {b} AND {} OR target_id BETWEEN {u} AND {}) ORDER BY kind",
            b + 99,
            u + 99
        ))
        .await;
    vec![
        format!("stored {:?}", rel(stored, b)),
        format!("visible {:?}", rel(shown, b)),
        format!("users visible {:?}", rel(users, u)),
        format!("withheld {withheld:?}"),
        format!("unlocated {located}"),
        format!("description {description:?}"),
        format!("kinds {kinds:?}"),
    ]
}

both_backends!(every_event_type_applies_in_both_orders, |db| async {
    let (b1, u1, b2, u2) = (BIG, 1_000, BIG + 1_000, 2_000);
    let (data, events) = scenario(b1, u1);
    db.replay_lines(&refs(&data)).await;
    db.replay_lines(&refs(&events)).await;
    let (data, events) = scenario(b2, u2);
    db.replay_lines(&refs(&events)).await;
    db.replay_lines(&refs(&data)).await;
    let after_data_first = snapshot(&db, b1, u1).await;
    assert_eq!(after_data_first, snapshot(&db, b2, u2).await);
    let expect = [
        "stored [2, 3, 4, 5, 6, 7, 11, 20, 21, 22]",
        "visible [2, 4, 7, 11, 20, 21, 22]",
        "users visible [1, 2, 5, 6, 8, 9]",
        "withheld Some(\"[\\\"DE\\\"]\")",
        "unlocated 1",
        "description Some(String(\"new description\"))",
    ];
    for (got, want) in after_data_first.iter().zip(expect) {
        assert_eq!(
            got.replace(": ", ":").replace(", ", ","),
            want.replace(", ", ",")
        );
    }
    let kinds = &after_data_first[6];
    for name in [
        "delete",
        "withheld",
        "drop",
        "undrop",
        "tweet_edit",
        "user_delete",
        "user_protect",
        "user_suspend",
        "user_unsuspend",
        "scrub_geo",
        "user_withheld",
        "user_profile_modification",
    ] {
        assert!(
            kinds.contains(&format!("\"{name}\"")),
            "{name} audited: {kinds}"
        );
    }
    // Every event is an events row of its own kind.
    let kinds = db
        .rows("SELECT DISTINCT kind FROM events ORDER BY kind")
        .await;
    assert!(
        kinds
            .iter()
            .any(|k| k[0].as_deref() == Some("user_profile_modification"))
    );
    assert!(kinds.iter().any(|k| k[0].as_deref() == Some("undrop")));
    // A country filter leaves out what is withheld there, the author's withholding included.
    assert!(!visible_in(&db, "DE").await.contains(&(b1 + 2)));
    assert!(visible_in(&db, "DE").await.contains(&(b1 + 21)));
    assert!(!visible_in(&db, "FR").await.contains(&(b1 + 21)));
    assert!(visible_in(&db, "FR").await.contains(&(b1 + 2)));
});

both_backends!(repeated_events_change_nothing, |db| async {
    let (data, events) = scenario(BIG, 1_000);
    let all: Vec<&str> = data.iter().chain(&events).map(String::as_str).collect();
    db.replay_lines(&all).await;
    let before = (
        db.actions().await,
        db.count("state_changes").await,
        snapshot(&db, BIG, 1_000).await,
    );
    let again: Vec<&str> = events.iter().map(String::as_str).collect();
    db.replay_lines(&again).await;
    let after = (
        db.actions().await,
        db.count("state_changes").await,
        snapshot(&db, BIG, 1_000).await,
    );
    assert_eq!(before, after);
});

both_backends!(
    states_toggled_in_any_order_follow_the_latest_event,
    |db| async {
        let (p, q, user) = (BIG, BIG + 1, 77);
        db.replay_lines(&[
            &post(p, user, "toggled author", &[]),
            &post(q, 78, "toggled post", &[]),
        ])
        .await;
        // (event, time): sent out of time order, one batch each.
        let steps = [
            (user_event("user_protect", user, 10), false),
            (user_event("user_unprotect", user, 5), false),
            (user_event("user_unprotect", user, 20), true),
            (user_event("user_suspend", user, 15), false),
            (user_event("user_suspend", user, 30), false),
            (user_event("user_unsuspend", user, 40), true),
            (user_event("user_delete", user, 50), false),
            (user_event("user_undelete", user, 45), false),
            (user_event("user_undelete", user, 60), true),
        ];
        for (line, shown) in &steps {
            db.replay_lines(&[line]).await;
            assert_eq!(visible(&db).await.contains(&p), *shown, "after {line}");
            assert_eq!(
                visible_users(&db).await.contains(&user),
                *shown,
                "after {line}"
            );
        }
        let drops = [
            (tweet_event("drop", q, 78, 3), false),
            (tweet_event("undrop", q, 78, 1), false),
            (tweet_event("undrop", q, 78, 4), true),
            (tweet_event("drop", q, 78, 9), false),
            (tweet_event("undrop", q, 78, 9), false),
            (tweet_event("undrop", q, 78, 11), true),
        ];
        for (line, shown) in &drops {
            db.replay_lines(&[line]).await;
            assert_eq!(visible(&db).await.contains(&q), *shown, "after {line}");
        }
        assert_eq!(db.count("tweets").await, 2, "states hide, never erase");
        let history = db.int("SELECT COUNT(*) FROM state_changes").await;
        assert_eq!(history as usize, steps.len() + drops.len());
    }
);

both_backends!(
    a_delete_of_any_version_deletes_the_whole_chain,
    |db| async {
        let (v1, v2, v3) = (BIG, BIG + 1, BIG + 2);
        db.replay_with(
            &[&post(v1, 5, "v1", &[]), &post(v2, 5, "v2", &[v1, v2])],
            streamvault::compliance::Policy {
                keep_edit_history: true,
            },
        )
        .await;
        db.replay_lines(&[&tweet_event("delete", v2, 5, 0)]).await;
        assert_eq!(db.count("tweets").await, 0, "both versions are gone");
        // A later version arriving after the delete is never stored.
        db.replay_lines(&[&post(v3, 5, "v3", &[v1, v2, v3])]).await;
        assert_eq!(db.count("tweets").await, 0);
        let deleted = ids_of(&db, "SELECT CAST(tweet_id AS TEXT) FROM deletions").await;
        assert_eq!(deleted, [v1, v2, v3]);
        // The other order: the delete of the first version, then a chain that names it.
        let (w1, w2) = (BIG + 10, BIG + 11);
        db.replay_lines(&[&tweet_event("delete", w1, 6, 0)]).await;
        db.replay_lines(&[&post(w2, 6, "w2", &[w1, w2])]).await;
        assert_eq!(db.count("tweets").await, 0);
    }
);

both_backends!(
    deleted_users_content_is_erased_after_the_delay,
    |db| async {
        let (gone, back, recent) = (501, 502, 503);
        let posts = [
            post(BIG, gone, "erased after the delay", &[]),
            post(BIG + 1, gone, "also erased", &[]),
            post(BIG + 2, back, "undeleted in time", &[]),
            post(BIG + 3, recent, "deleted too recently", &[]),
        ];
        db.replay_lines(&refs(&posts)).await;
        let years_ago = -300_000_000; // 2020
        db.replay_lines(&[
            &user_event("user_delete", gone, years_ago),
            &user_event("user_delete", back, years_ago),
            &user_event("user_undelete", back, years_ago + 1),
            &user_event("user_delete", recent, 0), // 2030: never older than the delay
        ])
        .await;
        let now = chrono::Utc::now();
        let cutoff = now - chrono::Duration::days(30);
        let erase = || async {
            streamvault::with_store!(&db.backend, s => streamvault::store::Store::erase_deleted_users(s, cutoff, now).await.unwrap())
        };
        assert_eq!(erase().await, 2);
        assert_eq!(db.count("purges_due").await, 1, "the purge is owed");
        assert_eq!(
            ids_of(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets").await,
            [BIG + 2, BIG + 3]
        );
        assert_eq!(erase().await, 0, "once");
        // The erased Posts are tombstoned: a later copy is refused.
        db.replay_lines(&[&post(BIG, gone, "again", &[])]).await;
        assert_eq!(db.count("tweets").await, 2);
        let audit: Vec<_> = db
            .actions()
            .await
            .into_iter()
            .filter(|a| a.0 == "user_delete" && a.3)
            .collect();
        assert_eq!(audit, [("user_delete".into(), gone, 2, true)]);
        assert_eq!(db.count("purges_due").await, 0, "the next writer purged it");
    }
);

both_backends!(the_report_counts_states_and_event_kinds, |db| async {
    use streamvault::report::{self, ReportFormat, ReportWindow};
    let (data, events) = scenario(BIG, 1_000);
    db.replay_with(
        &refs(&data),
        streamvault::compliance::Policy {
            keep_edit_history: true,
        },
    )
    .await;
    db.replay_lines(&refs(&events)).await;
    db.replay_lines(&[&user_event("user_suspend", 1_003, 5)])
        .await;
    let r = report::build(&db.backend, &ReportWindow::default())
        .await
        .unwrap();
    let s = &r.compliance.states;
    assert_eq!(
        (
            s.posts_dropped,
            s.users_deleted,
            s.users_protected,
            s.users_suspended
        ),
        (1, 1, 1, 1)
    );
    // The default policy of the second replay erased the first version of the chain.
    assert_eq!((s.edit_chains, s.superseded_versions_stored), (1, 0));
    let kinds: Vec<&str> = r
        .compliance
        .by_kind
        .iter()
        .map(|k| k.kind.as_str())
        .collect();
    for name in [
        "drop",
        "undrop",
        "tweet_edit",
        "user_profile_modification",
        "withheld",
    ] {
        assert!(kinds.contains(&name), "{name} in {kinds:?}");
    }
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)).unwrap();
    assert_eq!(json["compliance"]["states"]["users_protected"], 1);
    assert!(
        r.render(ReportFormat::Csv)
            .contains("compliance_states,posts_dropped,,count,1")
    );
    assert!(r.render(ReportFormat::Text).contains("posts dropped"));
    assert!(r.render(ReportFormat::Html).contains("users suspended"));
});

both_backends!(
    posts_after_their_events_are_deferred_applications,
    |db| async {
        deferred::events_then_posts(&db, BIG).await;
    }
);

both_backends!(posts_after_their_events_in_one_transaction, |db| async {
    deferred::in_one_transaction(&db, BIG).await;
});

both_backends!(withholdings_keep_their_notices_kind, |db| async {
    deferred::withholdings_keep_their_notices_kind(&db, BIG).await;
});

both_backends!(views_follow_every_toggle_exactly, |db| async {
    toggles::views_follow_every_toggle(&db, BIG).await;
});
