//! Rules as configuration: synced at start after a dry run, untouched by a restart, changed by a
//! SIGHUP with the least churn, refused rules naming `stream[0].rules[j]`.

use super::support::*;
use crate::both_backends;
use crate::common::daemon::*;
use std::time::Duration;

const STREAMING: &str =
    "rate = 200.0\nkeepalive_secs = 0.2\n\n[[connection]]\nsteps = [{ send = \"forever\" }]\n";

/// The non-dry POSTs among the rules requests.
fn changes(stats: &streamvault::simulate::Stats) -> Vec<serde_json::Value> {
    rules_requests(stats)
        .into_iter()
        .filter(|(method, dry, _)| method == "POST" && !dry)
        .map(|(_, _, body)| body.expect("a rules POST has a JSON body"))
        .collect()
}

fn values(rules: &[(String, String, Option<String>)]) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = rules
        .iter()
        .map(|(_, v, t)| (v.clone(), t.clone()))
        .collect();
    v.sort();
    v
}

fn id_of(rules: &[(String, String, Option<String>)], value: &str) -> String {
    rules
        .iter()
        .find(|r| r.1 == value)
        .unwrap_or_else(|| panic!("no rule {value:?} in {rules:?}"))
        .0
        .clone()
}

async fn wait_rules(sim: &streamvault::simulate::Simulator, want: &[(&str, Option<&str>)]) {
    let mut want: Vec<(String, Option<String>)> = want
        .iter()
        .map(|(v, t)| (v.to_string(), t.map(str::to_string)))
        .collect();
    want.sort();
    wait_stats(sim, "the server holds the configured rules", |s| {
        values(&server_rules(s)) == want
    })
    .await;
}

both_backends!(
    rules_synced_at_start_kept_on_restart_changed_on_sighup,
    |db| async {
        let sim = sim_toml(&db, STREAMING).await;
        let first = [("cat", Some("cats")), ("dog", None), ("music", Some("m"))];
        let spec = v2("filtered", &sim, SEARCH, &rules_key(&sim, &first));
        let daemon = Daemon::start(&db, std::slice::from_ref(&spec), 0.01);
        wait_rules(&sim, &first).await;
        wait_posts(&db, "filtered", 5).await;

        // The dry run came first, then the add, before the stream connected.
        let stats = sim.stats();
        let requests = rules_requests(&stats);
        let first_change = requests
            .iter()
            .position(|(m, dry, _)| m == "POST" && !dry)
            .expect("an add");
        let dry = requests
            .iter()
            .position(|(m, dry, _)| m == "POST" && *dry)
            .expect("a dry run");
        assert!(dry < first_change, "dry run after the change: {requests:?}");
        assert_eq!(
            requests[dry].2, requests[first_change].2,
            "the dry run validated the same add"
        );
        let added = changes(&stats);
        assert_eq!(added.len(), 1, "one add: {added:?}");
        assert_eq!(added[0]["add"].as_array().unwrap().len(), 3);
        let rules = server_rules(&stats);
        assert_eq!(
            rule_history(&db, "filtered").await,
            rules
                .iter()
                .map(|(id, v, t)| (id.clone(), v.clone(), t.clone(), false))
                .collect()
        );
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);

        // A restart with the same configuration changes nothing on the server.
        let before = sim.stats();
        let connected = stream_requests(&before, SEARCH).len();
        let daemon = Daemon::start(&db, std::slice::from_ref(&spec), 0.01);
        wait_stats(&sim, "the restarted daemon reconnected", |s| {
            stream_requests(s, SEARCH).len() > connected
        })
        .await;
        let after = sim.stats();
        assert_eq!(server_rules(&after), rules, "a restart changed the rules");
        assert_eq!(
            changes(&after).len(),
            1,
            "a restart sent an add or a delete"
        );
        assert_eq!(
            (after.v2_rules[0].created, after.v2_rules[0].deleted),
            (3, 0)
        );
        assert!(
            daemon
                .log_text()
                .contains("the server already holds the configured rules")
        );
        assert_eq!(db.count("stream_rules").await, 3);

        // SIGHUP: `dog` goes, `bird` comes, `cat` and `music` stay with their ids.
        let second = [
            ("cat", Some("cats")),
            ("music", Some("m")),
            ("bird", Some("b")),
        ];
        let mut changed = spec.clone();
        changed.extra = rules_key(&sim, &second);
        daemon.reload(&db, &[changed], 0.01);
        wait_rules(&sim, &second).await;
        let reloaded = sim.stats();
        let now = server_rules(&reloaded);
        for kept in ["cat", "music"] {
            assert_eq!(
                id_of(&now, kept),
                id_of(&rules, kept),
                "{kept} was re-created"
            );
        }
        let bird = id_of(&now, "bird");
        let dog = id_of(&rules, "dog");
        let sent = changes(&reloaded);
        assert_eq!(
            sent.len(),
            3,
            "the reload sent one delete and one add: {sent:?}"
        );
        let ops: Vec<&serde_json::Value> = sent[1..].iter().collect();
        let delete = ops
            .iter()
            .find(|b| b.get("delete").is_some())
            .expect("a delete");
        assert_eq!(delete["delete"]["ids"], serde_json::json!([dog]));
        let add = ops.iter().find(|b| b.get("add").is_some()).expect("an add");
        assert_eq!(
            add["add"],
            serde_json::json!([{ "value": "bird", "tag": "b" }])
        );
        // A change of rules alone does not reconnect.
        assert_eq!(
            stream_requests(&reloaded, SEARCH).len(),
            connected + 1,
            "the rules change reconnected the stream"
        );
        wait_until(
            "the history records the change",
            Duration::from_secs(10),
            || {
                let db = &db;
                async move { db.count("stream_rules").await == 4 }
            },
        )
        .await;
        let history = rule_history(&db, "filtered").await;
        let want: std::collections::BTreeSet<_> = [
            (
                id_of(&rules, "cat"),
                "cat".to_string(),
                Some("cats".to_string()),
                false,
            ),
            (dog.clone(), "dog".to_string(), None, true),
            (
                id_of(&rules, "music"),
                "music".to_string(),
                Some("m".to_string()),
                false,
            ),
            (
                bird.clone(),
                "bird".to_string(),
                Some("b".to_string()),
                false,
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(history, want);
        let order = db
            .int(&format!(
                "SELECT COUNT(*) FROM stream_rules a, stream_rules b WHERE a.rule_id = {dog} \
             AND b.rule_id = {bird} AND a.removed_at >= a.added_at AND b.added_at >= a.added_at"
            ))
            .await;
        assert_eq!(order, 1, "dog's removal and bird's addition times");
        let exit = daemon.stop(Duration::from_secs(10));
        assert_eq!(exit.code, Some(0), "{}", exit.log);
    }
);

both_backends!(
    a_refused_rule_at_start_exits_2_and_changes_nothing,
    |db| async {
        let sim = sim_toml(&db, STREAMING).await;
        // The server holds a rule the configuration drops: a sync would delete it.
        let seeded = reqwest::Client::new()
            .post(format!("http://{}{SEARCH}/rules", sim.addr()))
            .body(r#"{"add":[{"value":"rain","tag":"old"}]}"#)
            .send()
            .await
            .unwrap();
        assert!(seeded.status().is_success());
        let before = server_rules(&sim.stats());
        let rules = [("cat", None), ("has:images", Some("bad")), ("dog", None)];
        let daemon = Daemon::start(
            &db,
            &[v2("filtered", &sim, SEARCH, &rules_key(&sim, &rules))],
            0.01,
        );
        let exit = daemon.exit(Duration::from_secs(15));
        assert_eq!(exit.code, Some(2), "{}", exit.log);
        assert!(exit.log.contains("stream[0].rules[1]"), "{}", exit.log);
        assert!(exit.log.contains("has:images"), "{}", exit.log);
        // The server's reason, as it gave it.
        let stats = sim.stats();
        let dry = rules_requests(&stats)
            .into_iter()
            .filter(|(m, dry, _)| m == "POST" && *dry)
            .count();
        assert!(dry >= 1, "no dry run");
        assert!(
            exit.log
                .contains("Reference to invalid operator 'has:images'"),
            "{}",
            exit.log
        );
        assert_eq!(server_rules(&stats), before, "the server's rules changed");
        assert_eq!(changes(&stats).len(), 1, "only the test's own add");
        assert!(
            stream_requests(&stats, SEARCH).is_empty(),
            "the stream connected"
        );
    }
);

both_backends!(a_refused_rule_on_sighup_keeps_the_old_rules, |db| async {
    let sim = sim_toml(&db, STREAMING).await;
    let rules = [("cat", Some("cats")), ("dog", None)];
    let spec = v2("filtered", &sim, SEARCH, &rules_key(&sim, &rules));
    let mut daemon = Daemon::start(&db, std::slice::from_ref(&spec), 0.01);
    wait_rules(&sim, &rules).await;
    wait_posts(&db, "filtered", 5).await;
    let held = server_rules(&sim.stats());
    let mut bad = spec.clone();
    bad.extra = rules_key(
        &sim,
        &[("cat", Some("cats")), ("bird", None), ("foo:bar", None)],
    );
    daemon.reload(&db, &[bad], 0.01);
    wait_until("the reload is refused", Duration::from_secs(10), || {
        let log = daemon.log_text();
        async move { log.contains("reload refused: the server refuses a configured rule") }
    })
    .await;
    let log = daemon.log_text();
    assert!(
        log.contains("rules[2]") && log.contains("Reference to invalid operator 'foo:bar'"),
        "{log}"
    );
    let stats = sim.stats();
    assert_eq!(server_rules(&stats), held, "the old rules changed");
    assert_eq!(
        changes(&stats).len(),
        1,
        "the refused reload changed the server"
    );
    // Still running and archiving on the old rules.
    assert!(daemon.running());
    let (_, before) = post_events(&db, "filtered").await;
    wait_posts(&db, "filtered", before + 5).await;
    assert_eq!(db.count("stream_rules").await, 2);
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
});
