//! v2 Posts exported: `{"data", "includes"}` lines whose includes hold only what may be shown,
//! and the left-out counts of every v2 compliance state, checked against the views.

use super::*;

/// The v2 scenario of the compliance tests: Posts, then every event.
async fn archive_v2(db: &TestDb, b: i64, u: i64) -> Vec<String> {
    let data = v2_data(b, u);
    let (_, events) = v2_scenario(b, u);
    let refs: Vec<&str> = data.iter().chain(&events).map(String::as_str).collect();
    db.replay_lines(&refs).await;
    data
}

fn v2_scenario(b: i64, u: i64) -> (Vec<String>, Vec<String>) {
    use lines::*;
    let events = vec![
        tweet_event("delete", b + 1, u + 1, 0),
        withheld(b + 2, u + 1, &["DE"]),
        tweet_event("drop", b + 3, u + 2, 0),
        user_event("user_delete", u + 3, 0),
        user_event("user_protect", u + 4, 0),
        user_event("user_unsuspend", u + 5, 2),
        user_event("user_suspend", u + 5, 1),
        tweet_edit(&[b + 10, b + 11], 0),
        user_withheld(u + 8, &["FR"]),
    ];
    (v2_data(b, u), events)
}

fn v2_data(b: i64, u: i64) -> Vec<String> {
    use lines::post;
    vec![
        post(b + 1, u + 1, "deleted", &[]),
        post(b + 2, u + 1, "withheld in DE", &[]),
        post(b + 3, u + 2, "dropped", &[]),
        post(b + 5, u + 3, "author deleted", &[]),
        post(b + 6, u + 4, "author protected", &[]),
        post(b + 7, u + 5, "author suspended then unsuspended", &[]),
        post(b + 10, u + 6, "first version", &[]),
        post(b + 11, u + 6, "second version", &[b + 10, b + 11]),
        post(b + 21, u + 8, "author withheld in FR", &[]),
    ]
}

both_backends!(
    v2_posts_export_as_twarc_lines_only_when_visible,
    |db| async {
        let (b, u) = (1_600_000_000_000_000_000, 7_000);
        let data = archive_v2(&db, b, u).await;
        let (path, exported) = export_to(&db, Format::Jsonl, "v2.jsonl", Filters::default()).await;
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<i64> = lines
            .iter()
            .map(|l| l["data"]["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids, [b + 2, b + 7, b + 11, b + 21]);
        assert_eq!(
            ids,
            views::visible(&db).await,
            "the export is what the view shows"
        );
        assert_eq!(
            exported.counts.left_out,
            reasons(&[("dropped", 1), ("user_deleted", 1), ("user_protected", 1)])
        );
        let received: BTreeMap<String, Value> = data
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| (v["data"]["id"].as_str().unwrap().to_owned(), v))
            .collect();
        for line in &lines {
            let id = line["data"]["id"].as_str().unwrap();
            assert_eq!(line["data"], received[id]["data"], "Post {id}");
            assert_eq!(
                line["includes"]["users"], received[id]["includes"]["users"],
                "author of {id}"
            );
        }
        for (cc, gone, reason) in [("DE", b + 2, "withheld"), ("FR", b + 21, "user_withheld")] {
            let (path, exported) =
                export_to(&db, Format::Ids, &format!("{cc}.ids"), country(cc)).await;
            let expected: Vec<i64> = ids.iter().copied().filter(|i| *i != gone).collect();
            assert_eq!(ids_in(&path), expected, "{cc}");
            assert_eq!(ids_in(&path), views::visible_in(&db, cc).await, "{cc}");
            assert_eq!(exported.counts.left_out[reason], 1, "{cc}");
        }
    }
);

both_backends!(v2_includes_hold_only_what_may_be_shown, |db| async {
    let (q, p, a, b) = (
        1_700_000_000_000_000_001_i64,
        1_700_000_000_000_000_000_i64,
        51,
        52,
    );
    let line = format!(
        r#"{{"data":{{"id":"{q}","text":"quoting","author_id":"{a}","referenced_tweets":[{{"type":"quoted","id":"{p}"}}],"edit_history_tweet_ids":["{q}"]}},"includes":{{"users":[{{"id":"{a}","username":"ua"}},{{"id":"{b}","username":"ub"}}],"tweets":[{{"id":"{p}","text":"the original","author_id":"{b}","edit_history_tweet_ids":["{p}"]}}]}},"matching_rules":[{{"id":"9","tag":"cats"}}]}}"#
    );
    db.replay_lines(&[&line]).await;
    let sent: Value = serde_json::from_str(&line).unwrap();
    let read = |path: PathBuf| -> Value {
        serde_json::from_str(std::fs::read_to_string(path).unwrap().trim_end()).unwrap()
    };
    // The quoted Post came embedded only: it is in the quote's includes, not a line of its own.
    let (path, exported) = export_to(&db, Format::Jsonl, "q.jsonl", Filters::default()).await;
    assert_eq!(exported.counts.written, 1);
    let whole = read(path);
    assert_eq!(whole["data"], sent["data"]);
    assert_eq!(whole["includes"]["tweets"], sent["includes"]["tweets"]);
    assert_eq!(whole["includes"]["users"], sent["includes"]["users"]);
    // The rule it matched selects it; another selects nothing.
    for (tag, n) in [("cats", 1), ("dogs", 0)] {
        let rule = Filters {
            rule: Some(tag.into()),
            ..Filters::default()
        };
        let (_, exported) = export_to(&db, Format::Ids, &format!("{tag}.ids"), rule).await;
        assert_eq!(exported.counts.written, n, "{tag}");
    }
    // Once the quoted Post is dropped its copy and its author are left out; the reference stays.
    db.replay_lines(&[&lines::tweet_event("drop", p, b, 0)])
        .await;
    let (path, exported) = export_to(&db, Format::Jsonl, "q2.jsonl", Filters::default()).await;
    assert_eq!(exported.counts.embedded_copies_left_out, 1);
    let whole = read(path);
    assert_eq!(whole["data"], sent["data"]);
    assert!(whole["includes"].get("tweets").is_none(), "{whole}");
    assert_eq!(
        whole["includes"]["users"],
        serde_json::json!([sent["includes"]["users"][0]])
    );
});
