//! The example queries of `docs/queries.md`, run from the file on both backends against a known
//! engagement history, with their answers checked.

mod common;

use chrono::{DateTime, Utc};
use streamvault::record::{Origin, from_live_frame};
use streamvault::store::{Batch, Store};
use streamvault::with_store;

const TWEET: i64 = 1_739_617_652;

fn at(hhmm: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-11-23T{hhmm}:00.000000Z"))
        .unwrap()
        .with_timezone(&Utc)
}

fn engagement(tweet: i64, counts: &str) -> String {
    format!(
        r#"{{"topic":"/tweet_engagement/{tweet}","payload":{{"tweet_engagement":{{{counts}}}}}}}"#
    )
}

fn dm(kind: &str, conv: &str, user: &str) -> String {
    format!(
        r#"{{"topic":"/{kind}/{conv}","payload":{{"{kind}":{{"conversation_id":"{conv}","user_id":"{user}"}}}}}}"#
    )
}

/// A session's frames at known times: partial samples, counts as strings and numbers.
fn history() -> Vec<(&'static str, String)> {
    vec![
        ("10:00", r#"{"topic":"/system/config","payload":{"config":{"session_id":"s1","subscription_ttl_millis":120000,"heartbeat_millis":25000}}}"#.to_string()),
        ("10:05", engagement(TWEET, r#""like_count":"10","retweet_count":2,"view_count_info":{"count":"1000","state":"EnabledWithCount"}"#)),
        ("10:10", engagement(42, r#""view_count_info":{"count":100}"#)),
        ("10:20", engagement(7, r#""view_count_info":{"count":"50000"}"#)),
        ("10:30", engagement(TWEET, r#""like_count":15"#)),
        ("10:50", engagement(TWEET, r#""view_count_info":{"count":"2500"}"#)),
        ("11:10", engagement(TWEET, r#""like_count":"40","retweet_count":"5""#)),
        ("11:15", dm("dm_update", "1-2", "1")),
        ("11:16", dm("dm_typing", "1-2", "2")),
        ("11:17", dm("dm_update", "1-2", "2")),
        ("11:20", dm("dm_update", "99", "5")),
        ("11:40", engagement(TWEET, r#""view_count_info":{"count":9000}"#)),
        ("11:50", engagement(42, r#""view_count_info":{"count":"300"},"like_count":1"#)),
    ]
}

/// The SQL blocks of the document, in order.
fn documented_queries() -> Vec<String> {
    let doc = include_str!("../docs/queries.md");
    doc.split("```sql")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().trim().to_owned())
        .collect()
}

fn column(table: &streamvault::query::Table, i: usize) -> Vec<Option<String>> {
    table.rows.iter().map(|r| r[i].clone()).collect()
}

fn texts(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

both_backends!(the_documented_queries_answer_right, |db| async {
    write_history(&db).await;
    let results = run_documented_queries(&db).await;
    check_latest_and_curve(&results);
    check_growth_dms_and_sessions(&results);
});

/// The history, written as one batch through the store.
async fn write_history(db: &common::TestDb) {
    let mut batch = Batch::default();
    for (time, frame) in history() {
        let origin = Origin {
            stream: "live".into(),
            connection_id: None,
            received_at: at(time),
        };
        batch.push(from_live_frame(&frame, &origin, Some("s1")).expect("a frame, not a heartbeat"));
    }
    with_store!(&db.backend, s => s.write_batch(&std::sync::Arc::new(std::mem::take(&mut batch)), Utc::now()).await.unwrap());
    assert_eq!(db.count("engagement_samples").await, 8);
    assert_eq!(db.count("dm_activity").await, 4);
}

/// Every documented query, run as `streamvault query` would run it.
async fn run_documented_queries(db: &common::TestDb) -> Vec<streamvault::query::Table> {
    let queries = documented_queries();
    assert_eq!(queries.len(), 6, "docs/queries.md holds six examples");
    let mut results = Vec::new();
    for sql in &queries {
        let table = streamvault::query::run(&db.backend, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}\n{e}"));
        results.push(table);
    }
    results
}

/// engagement_latest and the curve with counts carried forward.
fn check_latest_and_curve(results: &[streamvault::query::Table]) {
    // engagement_latest: every count carried forward to its latest value.
    let latest = &results[0];
    assert_eq!(
        column(latest, 0),
        texts(&[Some("7"), Some("1739617652"), Some("42")])
    );
    assert_eq!(
        latest.rows[1][1].as_deref(),
        Some("40"),
        "likes of the tweet"
    );
    assert_eq!(latest.rows[1][2].as_deref(), Some("5"), "retweets");
    assert_eq!(latest.rows[1][5].as_deref(), Some("9000"), "views");
    assert_eq!(latest.rows[2][1].as_deref(), Some("1"));
    assert_eq!(latest.rows[0][1], None, "never reported: NULL, not 0");

    // The curve: a sample that omits a count inherits the previous one.
    let curve = &results[1];
    assert_eq!(
        column(curve, 1),
        texts(&[Some("10"), Some("15"), Some("15"), Some("40"), Some("40")])
    );
    assert_eq!(
        column(curve, 2),
        texts(&[Some("2"), Some("2"), Some("2"), Some("5"), Some("5")])
    );
    assert_eq!(
        column(curve, 3),
        texts(&[
            Some("1000"),
            Some("1000"),
            Some("2500"),
            Some("2500"),
            Some("9000")
        ])
    );
}

/// Growth per hour, the fastest-growing tweets, DM activity and sessions.
fn check_growth_dms_and_sessions(results: &[streamvault::query::Table]) {
    // Growth per hour.
    let hourly = &results[2];
    assert_eq!(hourly.rows.len(), 2);
    assert!(hourly.rows[0][0].as_deref().unwrap().ends_with("10"));
    assert_eq!(column(hourly, 1), texts(&[Some("15"), Some("40")]));
    assert_eq!(column(hourly, 2), texts(&[None, Some("25")]));

    // Fastest-growing in the window; a tweet with a single view sample is left out.
    let fastest = &results[3];
    assert_eq!(column(fastest, 0), texts(&[Some("1739617652"), Some("42")]));
    assert_eq!(column(fastest, 1), texts(&[Some("8000"), Some("200")]));

    // DM activity.
    let dms = &results[4];
    assert_eq!(column(dms, 0), texts(&[Some("1-2"), Some("99")]));
    assert_eq!(column(dms, 1), texts(&[Some("2"), Some("1")]));
    assert_eq!(column(dms, 2), texts(&[Some("1"), Some("0")]));

    // Sessions.
    let sessions = &results[5];
    assert_eq!(column(sessions, 0), texts(&[Some("s1")]));
}
