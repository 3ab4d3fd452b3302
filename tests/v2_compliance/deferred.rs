//! Posts (and profiles) that arrive after the v2 event that concerns them: each is audited as a
//! deferred application under the event's own name (`drop`, `user_delete`, `user_protect`,
//! `user_suspend`, `user_withheld`, `withheld`, `user_profile_modification`, ...), whether the
//! event came in an earlier transaction or earlier in the same one; an event's own count leaves
//! those out.

use super::common::TestDb;
use super::lines::*;

/// The audit trail as sorted (kind, target, rows affected, deferred), targets relative to `b`
/// (Posts) or as they are (users).
async fn audit(db: &TestDb, b: i64) -> Vec<(String, i64, i64, bool)> {
    let mut rows: Vec<_> = db
        .actions()
        .await
        .into_iter()
        .map(|(k, t, n, d)| (k, if t >= b { t - b } else { t }, n, d))
        .collect();
    rows.sort();
    rows
}

fn row(kind: &str, target: i64, rows: i64, deferred: bool) -> (String, i64, i64, bool) {
    (kind.to_string(), target, rows, deferred)
}

/// Every event first (one transaction), then the Posts (another): each Post the archive stores
/// or refuses is a deferred application of the events that concern it.
pub async fn events_then_posts(db: &TestDb, b: i64) {
    db.replay_lines(&[
        &tweet_event("delete", b + 1, 31, 0),
        &withheld(b + 2, 31, &["DE"]),
        &tweet_event("drop", b + 3, 32, 0),
        &tweet_event("drop", b + 4, 32, 1),
        &tweet_event("undrop", b + 4, 32, 2),
        &user_event("user_delete", 33, 0),
        &user_event("user_protect", 34, 0),
        &user_event("user_suspend", 35, 1),
        &user_event("user_unsuspend", 35, 2),
        &user_event("user_suspend", 36, 0),
        &user_event("user_delete", 36, 0),
        &scrub_geo(37, b + 20),
        &user_withheld(38, &["FR"]),
        &profile(39, "profile.description", "new description", 0),
    ])
    .await;
    let own = audit(db, b).await;
    assert!(own.iter().all(|a| !a.3), "nothing was archived: {own:?}");
    db.replay_lines(&[
        &post(b + 1, 31, "deleted", &[]),
        &post(b + 2, 31, "withheld", &[]),
        &post(b + 3, 32, "dropped", &[]),
        &post(b + 4, 32, "dropped then undropped", &[]),
        &post(b + 5, 33, "author deleted", &[]),
        &post(b + 6, 34, "author protected", &[]),
        &post(b + 7, 34, "author protected, again", &[]),
        &post(b + 8, 35, "author suspended then unsuspended", &[]),
        &post(b + 9, 36, "author suspended and deleted", &[]),
        &geo_post(b + 20, 37, "located"),
        &post(b + 21, 38, "author withheld", &[]),
        &post(
            b + 22,
            39,
            "an older profile of its author in its includes",
            &[],
        ),
    ])
    .await;
    let deferred: Vec<_> = audit(db, b).await.into_iter().filter(|a| a.3).collect();
    assert_eq!(
        deferred,
        [
            row("delete", 1, 1, true),
            row("drop", 3, 1, true),
            row("scrub_geo", 37, 1, true),
            row("user_delete", 33, 1, true),
            row("user_delete", 36, 1, true),
            row("user_profile_modification", 39, 1, true),
            row("user_protect", 34, 2, true),
            row("user_suspend", 36, 1, true),
            // The author's profile (in the Post's includes) and the Post.
            row("user_withheld", 38, 2, true),
            row("withheld", 2, 1, true),
        ]
    );
    assert_eq!(
        audit(db, b)
            .await
            .into_iter()
            .filter(|a| !a.3)
            .collect::<Vec<_>>(),
        own,
        "the events' own rows are unchanged"
    );
    let raw = db
        .json("SELECT CAST(raw AS TEXT) FROM users WHERE user_id = 39")
        .await;
    assert_eq!(raw.unwrap()["description"], "new description");
}

/// Events and Posts in one transaction: a Post after its event is a deferred application, one
/// before it is the event's own.
pub async fn in_one_transaction(db: &TestDb, b: i64) {
    db.replay_lines(&[
        &post(b + 1, 41, "before its drop", &[]),
        &tweet_event("drop", b + 1, 41, 0),
        &tweet_event("drop", b + 2, 42, 0),
        &post(b + 2, 42, "after its drop", &[]),
        &post(b + 3, 43, "before its author's suspension", &[]),
        &user_event("user_suspend", 43, 0),
        &post(b + 4, 43, "after its author's suspension", &[]),
        &post(b + 5, 43, "after, again", &[]),
        &withheld(b + 6, 44, &["DE"]),
        &post(b + 6, 44, "after its withholding", &[]),
        &post(b + 7, 45, "before its withholding", &[]),
        &withheld(b + 7, 45, &["FR"]),
    ])
    .await;
    assert_eq!(
        audit(db, b).await,
        [
            row("drop", 1, 1, false),
            row("drop", 2, 0, false),
            row("drop", 2, 1, true),
            row("user_suspend", 43, 1, false),
            row("user_suspend", 43, 2, true),
            row("withheld", 6, 0, false),
            row("withheld", 6, 1, true),
            row("withheld", 7, 1, false),
        ]
    );
}

/// A v1.1 `status_withheld` keeps its own name when it reaches a later arrival, and a v2
/// `withheld` its own, whichever came first in the transaction.
pub async fn withholdings_keep_their_notices_kind(db: &TestDb, b: i64) {
    db.replay_lines(&[
        &super::common::status_withheld(b + 1, 51, &["DE"]),
        &withheld(b + 2, 52, &["DE"]),
    ])
    .await;
    db.replay_lines(&[
        &super::common::tweet(b + 1, 51, "v1.1, late"),
        &post(b + 2, 52, "v2, late", &[]),
    ])
    .await;
    let deferred: Vec<_> = audit(db, b).await.into_iter().filter(|a| a.3).collect();
    assert_eq!(
        deferred,
        [
            row("status_withheld", 1, 1, true),
            row("withheld", 2, 1, true)
        ]
    );
}
