//! Hostile statuses and notices through `replay` on both backends: broken times, location in
//! every shape, unusable numeric ids, broken envelopes, bad country codes and deep nesting are
//! archived or rejected as documented, and never crash the run.

mod common;

use common::{BIG, TestDb, scrub_geo, tweet};
use serde_json::json;

/// A status of `user` whose location comes as `geo` (the fields set on a plain test status).
fn located(id: i64, user: i64, geo: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&tweet(id, user, "somewhere")).unwrap();
    for (key, value) in geo.as_object().unwrap() {
        v[key] = value.clone();
    }
    v.to_string()
}

/// Every shape of location the scrub must reach, on statuses BIG.. of user 7.
fn every_shape() -> Vec<String> {
    let point = |c: serde_json::Value| json!({"type": "Point", "coordinates": c});
    [
        json!({"coordinates": point(json!([13.4, 52.5, 34.0]))}),
        json!({"coordinates": point(json!(["13.4", "52.5"]))}),
        json!({"geo": point(json!(["52.5", "13.4", "0"]))}),
        json!({"geo": "Berlin"}),
        json!({"coordinates": {"type": "Point", "coordinates": "13.4,52.5"}}),
        json!({"coordinates": [13.4, 52.5]}),
        json!({"place": {"full_name": "Berlin, Germany"}}),
        json!({"coordinates": point(json!([500, 52.5]))}),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, geo)| located(BIG + i as i64, 7, geo))
    .collect()
}

async fn assert_all_scrubbed(db: &TestDb, n: i64) {
    let rows = db
        .rows(
            "SELECT CAST(tweet_id AS TEXT), CAST(longitude AS TEXT), CAST(latitude AS TEXT), \
             CAST(place AS TEXT), CASE WHEN geo_scrubbed THEN 'y' ELSE 'n' END, CAST(raw AS TEXT) \
             FROM tweets WHERE user_id = 7 ORDER BY tweet_id",
        )
        .await;
    assert_eq!(rows.len() as i64, n);
    for row in rows {
        assert_eq!(&row[1..5], &[None, None, None, Some("y".into())], "{row:?}");
        let raw: serde_json::Value = serde_json::from_str(row[5].as_deref().unwrap()).unwrap();
        for key in ["coordinates", "geo", "place"] {
            assert!(raw.get(key).is_none(), "{key} left in {raw}");
        }
        assert_eq!(raw["text"], "somewhere");
    }
    assert_eq!(db.int("SELECT tweets_scrubbed FROM geo_scrubs").await, n);
}

both_backends!(
    scrub_geo_after_the_statuses_reaches_every_shape,
    |db| async {
        let lines = every_shape();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        db.replay_lines(&refs).await;
        // What could be read honestly is in the typed columns: the first two elements, strings parsed.
        let typed = db
            .rows(&format!(
                "SELECT CAST(longitude AS TEXT), CAST(latitude AS TEXT) FROM tweets \
             WHERE tweet_id IN ({BIG}, {}, {}) ORDER BY tweet_id",
                BIG + 1,
                BIG + 2
            ))
            .await;
        for row in typed {
            let lon: f64 = row[0].as_deref().unwrap().parse().unwrap();
            let lat: f64 = row[1].as_deref().unwrap().parse().unwrap();
            assert_eq!((lon, lat), (13.4, 52.5));
        }
        db.replay_lines(&[&scrub_geo(7, BIG + 100)]).await;
        assert_all_scrubbed(&db, lines.len() as i64).await;
    }
);

both_backends!(
    scrub_geo_before_the_statuses_reaches_every_shape,
    |db| async {
        db.replay_lines(&[&scrub_geo(7, BIG + 100)]).await;
        let lines = every_shape();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        db.replay_lines(&refs).await;
        assert_all_scrubbed(&db, lines.len() as i64).await;
        assert_eq!(db.count("rejects").await, 0);
    }
);

both_backends!(broken_times_are_archived_without_a_time, |db| async {
    let mut status: serde_json::Value = serde_json::from_str(&tweet(BIG, 1, "x")).unwrap();
    status["created_at"] = "Wed\u{e9}ct 10 20:19:24 +0000 2018".into();
    let escaped = status.to_string().replace('é', "\\u00e9");
    let mut other = status.clone();
    other["id_str"] = (BIG + 1).to_string().into();
    let event = json!({"event": "follow", "created_at": "Wedéct 10 20:19:24 +0000 2018",
        "source": {"id_str": "1"}, "target": {"id_str": "2"}});
    db.replay_lines(&[&escaped, &other.to_string(), &event.to_string()])
        .await;
    assert_eq!(db.count("rejects").await, 0);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE created_at IS NULL")
            .await,
        2
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM events WHERE kind = 'event'")
            .await,
        1
    );
});

both_backends!(notices_apply_from_a_usable_id_str, |db| async {
    db.replay_lines(&[&tweet(BIG, 1, "gone"), &tweet(BIG + 1, 2, "withheld")])
        .await;
    let delete = format!(
        r#"{{"delete":{{"status":{{"id":1.5e18,"id_str":"{BIG}","user_id":-1,"user_id_str":"1"}}}}}}"#
    );
    let withheld = format!(
        r#"{{"status_withheld":{{"id":"junk","id_str":"{}","user_id":2,"withheld_in_countries":["DE","XX"]}}}}"#,
        BIG + 1
    );
    let both_bad = r#"{"delete":{"status":{"id":1.5e18,"id_str":"12x"}}}"#;
    db.replay_lines(&[&delete, &withheld, both_bad]).await;
    assert_eq!(
        db.int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE tweet_id = {BIG}"
        ))
        .await,
        0
    );
    assert_eq!(
        db.int(&format!(
            "SELECT user_id FROM deletions WHERE tweet_id = {BIG}"
        ))
        .await,
        1
    );
    assert_eq!(
        db.json(&format!(
            "SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = {}",
            BIG + 1
        ))
        .await
        .unwrap(),
        json!(["DE", "XX"])
    );
    let reasons = db.rows("SELECT reason FROM rejects").await;
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0][0]
            .as_deref()
            .unwrap()
            .starts_with("delete message malformed: no usable id (id_str:"),
        "{reasons:?}"
    );
});

both_backends!(
    broken_envelopes_bad_codes_and_deep_lines_are_rejects,
    |db| async {
        let deep = format!(
            r#"{{"id_str":"5","text":"x","e":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let mut status: serde_json::Value = serde_json::from_str(&tweet(BIG, 1, "kept")).unwrap();
        status["withheld_in_countries"] = json!(["DE", "de", "Germany", 7]);
        let lines = [
            r#"{"delete":null}"#.to_string(),
            r#"{"scrub_geo":null}"#.into(),
            r#"{"limit":null}"#.into(),
            r#"{"status_withheld":[]}"#.into(),
            r#"{"disconnect":"x"}"#.into(),
            r#"{"user_withheld":{"id_str":"1","withheld_in_countries":["DEU"]}}"#.into(),
            deep,
            r#"{"brand_new_type":null}"#.into(),
            status.to_string(),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        db.replay_lines(&refs).await;
        let reasons: Vec<String> = db
            .rows("SELECT reason FROM rejects ORDER BY reject_id")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "delete message malformed: `delete` is null, not an object",
                "scrub_geo message malformed: `scrub_geo` is null, not an object",
                "limit message malformed: `limit` is null, not an object",
                "status_withheld message malformed: `status_withheld` is an array, not an object",
                "disconnect message malformed: `disconnect` is a string, not an object",
                r#"user_withheld message malformed: invalid country code "DEU": expected two upper-case letters"#,
                "JSON nested deeper than 100 levels",
            ]
        );
        assert_eq!(
            db.int("SELECT COUNT(*) FROM events WHERE kind = 'unknown'")
                .await,
            1
        );
        assert_eq!(
            db.json(&format!(
                "SELECT CAST(withheld_in_countries AS TEXT) FROM tweets WHERE tweet_id = {BIG}"
            ))
            .await
            .unwrap(),
            json!(["DE"])
        );
    }
);
