//! Compliance notices on both backends: each rule, in both orders, repeated, and audited.

mod common;

use common::{
    BIG, TestDb, delete, geo_tweet, quote, retweet, scrub_geo, status_withheld, tweet,
    user_withheld,
};

async fn ids(db: &TestDb) -> Vec<i64> {
    db.rows("SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweets.tweet_id")
        .await
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

async fn arrived_before(db: &TestDb, id: i64) -> bool {
    db.text(&format!(
        "SELECT CASE WHEN arrived_before_tweet THEN 'y' ELSE 'n' END FROM deletions WHERE tweet_id = {id}"
    ))
    .await
    .as_deref()
        == Some("y")
}

both_backends!(
    delete_after_the_tweet_erases_it_and_its_retweets,
    |db| async {
        let original = tweet(BIG, 1, "to be deleted");
        db.replay_lines(&[
            &original,
            &retweet(BIG + 1, 2, &original),
            &quote(BIG + 2, 3, &original),
        ])
        .await;
        assert_eq!(ids(&db).await, vec![BIG, BIG + 1, BIG + 2]);
        db.replay_lines(&[&delete(BIG, 1)]).await;
        // The original and its pure retweet are gone; the quote stays, with only a reference.
        assert_eq!(ids(&db).await, vec![BIG + 2]);
        let quote_raw = db
            .text(&format!(
                "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {}",
                BIG + 2
            ))
            .await
            .unwrap();
        assert!(!quote_raw.contains("to be deleted"));
        assert_eq!(
            db.int(&format!(
                "SELECT quoted_status_id FROM tweets WHERE tweet_id = {}",
                BIG + 2
            ))
            .await,
            BIG
        );
        assert!(!arrived_before(&db, BIG).await);
        assert_eq!(db.actions().await, vec![("delete".into(), BIG, 2, false)]);
        // No content anywhere: events hold ids only.
        let leftovers = db
            .int("SELECT COUNT(*) FROM events WHERE CAST(raw AS TEXT) LIKE '%to be deleted%'")
            .await;
        assert_eq!(leftovers, 0);
    }
);

both_backends!(delete_before_the_tweet_is_a_tombstone, |db| async {
    let original = tweet(BIG, 1, "deleted before it came");
    db.replay_lines(&[&delete(BIG, 1)]).await;
    assert!(arrived_before(&db, BIG).await);
    db.replay_lines(&[&original]).await;
    db.replay_lines(&[&retweet(BIG + 1, 2, &original)]).await;
    assert!(
        ids(&db).await.is_empty(),
        "neither the tweet nor a retweet of it is stored"
    );
    let audit = db.actions().await;
    assert_eq!(audit[0], ("delete".into(), BIG, 0, false));
    assert!(
        audit[1..]
            .iter()
            .all(|a| a.0 == "delete" && a.1 == BIG && a.3),
        "{audit:?}"
    );
    assert_eq!(audit.len(), 3);
    assert!(
        db.text(&format!(
            "SELECT CAST(tweet_arrived_at AS TEXT) FROM deletions WHERE tweet_id = {BIG}"
        ))
        .await
        .is_some()
    );
});

both_backends!(delete_and_tweet_in_one_batch_in_either_order, |db| async {
    let a = tweet(BIG, 1, "a");
    let b = tweet(BIG + 1, 1, "b");
    db.replay_lines(&[&a, &delete(BIG, 1), &delete(BIG + 1, 1), &b])
        .await;
    assert!(ids(&db).await.is_empty());
    assert!(!arrived_before(&db, BIG).await);
    assert!(arrived_before(&db, BIG + 1).await);
});

both_backends!(repeated_notices_change_nothing, |db| async {
    let lines = [
        tweet(BIG, 1, "x"),
        geo_tweet(BIG + 1, 1, "y"),
        delete(BIG, 1),
        scrub_geo(1, BIG + 1),
        status_withheld(BIG + 1, 1, &["DE"]),
        user_withheld(1, &["FR"]),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
    let before = (
        db.actions().await,
        db.count("deletions").await,
        db.count("geo_scrubs").await,
        db.count("withholdings").await,
    );
    db.replay_lines(&refs[2..]).await;
    db.replay_lines(&[&delete(BIG, 1), &delete(BIG, 1)]).await;
    let after = (
        db.actions().await,
        db.count("deletions").await,
        db.count("geo_scrubs").await,
        db.count("withholdings").await,
    );
    assert_eq!(before, after);
    assert_eq!(before.0.len(), 4);
});

both_backends!(scrub_geo_after_arrival_strips_location, |db| async {
    db.replay_lines(&[
        &geo_tweet(BIG, 7, "here"),
        &geo_tweet(BIG + 5, 7, "later"),
        &geo_tweet(BIG + 1, 8, "other user"),
    ])
    .await;
    db.replay_lines(&[&scrub_geo(7, BIG + 2)]).await;
    let row = db.rows(&format!(
        "SELECT CAST(longitude AS TEXT), CAST(latitude AS TEXT), CAST(place AS TEXT), CASE WHEN geo_scrubbed THEN 'y' ELSE 'n' END FROM tweets WHERE tweet_id = {BIG}"
    )).await;
    assert_eq!(row[0], vec![None, None, None, Some("y".into())]);
    let raw = db
        .json(&format!(
            "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {BIG}"
        ))
        .await
        .unwrap();
    for key in ["coordinates", "geo", "place"] {
        assert!(raw.get(key).is_none(), "{key} left in raw");
    }
    assert_eq!(raw["text"], "here");
    // Beyond the id and other users: untouched.
    for id in [BIG + 5, BIG + 1] {
        let raw = db
            .json(&format!(
                "SELECT CAST(raw AS TEXT) FROM tweets WHERE tweet_id = {id}"
            ))
            .await
            .unwrap();
        assert!(raw["coordinates"].is_object());
    }
    assert_eq!(db.int("SELECT tweets_scrubbed FROM geo_scrubs").await, 1);
    assert_eq!(db.actions().await, vec![("scrub_geo".into(), 7, 1, false)]);
});

both_backends!(
    scrub_geo_before_arrival_including_embedded_copies,
    |db| async {
        db.replay_lines(&[&scrub_geo(7, BIG + 2)]).await;
        let original = geo_tweet(BIG, 7, "located original");
        // The original arrives embedded in another user's retweet, then on its own.
        db.replay_lines(&[&retweet(BIG + 10, 9, &original), &original])
            .await;
        let row = db.rows(&format!("SELECT CAST(longitude AS TEXT), CAST(place AS TEXT), CASE WHEN geo_scrubbed THEN 'y' ELSE 'n' END FROM tweets WHERE tweet_id = {BIG}")).await;
        assert_eq!(row[0], vec![None, None, Some("y".into())]);
        let everywhere = db
            .int("SELECT COUNT(*) FROM tweets WHERE CAST(raw AS TEXT) LIKE '%Berlin%'")
            .await;
        assert_eq!(everywhere, 0, "no copy of the location anywhere");
        let audit = db.actions().await;
        assert_eq!(audit[0], ("scrub_geo".into(), 7, 0, false));
        assert_eq!(audit[1], ("scrub_geo".into(), 7, 1, true));
        assert_eq!(db.int("SELECT tweets_scrubbed FROM geo_scrubs").await, 1);
    }
);

both_backends!(withheld_notices_before_and_after_arrival, |db| async {
    db.replay_lines(&[&tweet(BIG, 1, "early")]).await;
    db.replay_lines(&[
        &status_withheld(BIG, 1, &["DE", "AR"]),
        &status_withheld(BIG + 1, 1, &["FR"]),
        &user_withheld(2, &["TR"]),
    ])
    .await;
    db.replay_lines(&[&tweet(BIG + 1, 2, "late")]).await;
    db.replay_lines(&[&status_withheld(BIG, 1, &["BR"])]).await;
    let w = |id: i64| {
        format!("SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = {id}")
    };
    assert_eq!(
        db.json(&w(BIG)).await.unwrap(),
        serde_json::json!(["AR", "BR", "DE"])
    );
    assert_eq!(
        db.json(&w(BIG + 1)).await.unwrap(),
        serde_json::json!(["FR"])
    );
    let user = db
        .json("SELECT CAST(withheld_in_countries AS TEXT) FROM users WHERE user_id = 2")
        .await
        .unwrap();
    assert_eq!(user, serde_json::json!(["TR"]));
    // A profile refresh keeps the withholding.
    db.replay_lines(&[&tweet(BIG + 2, 2, "profile again")])
        .await;
    let user = db
        .json("SELECT CAST(withheld_in_countries AS TEXT) FROM users WHERE user_id = 2")
        .await
        .unwrap();
    assert_eq!(user, serde_json::json!(["TR"]));
    let kinds: Vec<_> = db
        .actions()
        .await
        .into_iter()
        .map(|a| (a.0, a.1, a.3))
        .collect();
    assert!(
        kinds.contains(&("status_withheld".into(), BIG + 1, true)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("user_withheld".into(), 2, true)),
        "{kinds:?}"
    );
});

// A second process writing notices into the same archive (a replay beside the daemon): the
// first store, which already wrote batches, must still see them when the tweet arrives later.
both_backends!(notices_written_by_another_process_are_applied, |db| async {
    db.replay_lines(&[&tweet(BIG + 1, 10, "warm-up: the store has written before")])
        .await;
    let other = streamvault::cli::open_migrated(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notices.jsonl");
    let notices = [
        delete(BIG + 2, 20),
        status_withheld(BIG + 3, 30, &["DE"]),
        scrub_geo(40, BIG + 10),
    ]
    .join("\n");
    std::fs::write(&path, notices).unwrap();
    let options = streamvault::replay::ReplayOptions {
        inputs: vec![path],
        stream: "other".into(),
        max_line_bytes: 1 << 20,
        max_reject_bytes: 1 << 20,
        progress_bar: false,
    };
    streamvault::with_store!(other.clone(), s => streamvault::replay::replay(s, Default::default(), options).await.unwrap());
    other.close().await;
    // The first store meets the tweets only now.
    db.replay_lines(&[
        &tweet(BIG + 2, 20, "deleted before it arrived"),
        &tweet(BIG + 3, 30, "withheld before it arrived"),
        &geo_tweet(BIG + 4, 40, "scrubbed before it arrived"),
    ])
    .await;
    assert_eq!(ids(&db).await, vec![BIG + 1, BIG + 3, BIG + 4]);
    assert_eq!(
        db.text(&format!(
            "SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = {}",
            BIG + 3
        ))
        .await
        .as_deref()
        .map(|s| s.replace(' ', "")),
        Some("[\"DE\"]".into())
    );
    assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id = {} AND longitude IS NULL AND place IS NULL",
            BIG + 4
        ))
        .await,
        1
    );
});
