//! `streamvault run` against the simulator's compliance streams (all four partitions of each)
//! beside a sample stream, on both backends: the archive ends in the state the simulator's
//! ground truth says every delivered event must leave.

mod common;

#[path = "v2_live/support.rs"]
#[allow(dead_code)]
mod support;

use common::daemon::*;
use std::collections::BTreeSet;
use std::time::Duration;
use support::*;

/// 1,000 Posts, then 50 events per compliance partition drawn from them, then keep-alives.
const SCENARIO: &str = "rate = 500.0\nkeepalive_secs = 0.2\n\n[compliance]\nsend_percent = 5\n\n\
                        [[connection]]\nsteps = [{ send = 1000 }, { idle = \"forever\" }]\n";

const PARTITIONS: &str = "partitions = [1, 2, 3, 4]\n";

fn ids(list: &[String]) -> BTreeSet<i64> {
    list.iter().map(|id| id.parse().unwrap()).collect()
}

async fn id_set(db: &common::TestDb, sql: &str) -> BTreeSet<i64> {
    db.rows(sql)
        .await
        .into_iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

both_backends!(the_archive_ends_as_the_simulators_truth_says, |db| async {
    let sim = sim_toml(&db, SCENARIO).await;
    let streams = [
        v2("sample", &sim, SAMPLE, ""),
        v2("tc", &sim, "/2/tweets/compliance/stream", PARTITIONS),
        v2("uc", &sim, "/2/users/compliance/stream", PARTITIONS),
    ];
    let daemon = Daemon::start_with(&db, &streams, 0.01, "", &[]);
    wait_stats(&sim, "every partition's 50 events delivered", |s| {
        s.v2_compliance_streams.len() == 8
            && s.v2_compliance_streams.iter().all(|p| p.delivered >= 50)
    })
    .await;
    let delivered: u64 = sim
        .stats()
        .v2_compliance_streams
        .iter()
        .map(|p| p.delivered)
        .sum();
    let sql = "SELECT COUNT(*) FROM events WHERE stream IN ('tc', 'uc')";
    for _ in 0..600 {
        if db.int(sql).await as u64 >= delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = daemon.stop(Duration::from_secs(20));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let stats = sim.stats();
    let delivered: u64 = stats
        .v2_compliance_streams
        .iter()
        .map(|p| p.delivered)
        .sum();
    assert_eq!(db.int(sql).await as u64, delivered, "every event archived");
    assert_eq!(db.count("rejects").await, 0);
    let truth = &stats.v2_compliance_truth[0];

    let deleted = ids(&truth.deleted_tweets);
    assert!(!deleted.is_empty());
    let tombstones = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM deletions").await;
    assert!(
        deleted.is_subset(&tombstones),
        "every delete is a tombstone"
    );
    let stored = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets").await;
    assert!(
        deleted.is_disjoint(&stored),
        "a deleted Post is still stored"
    );

    for (state, list) in [
        ("deleted", &truth.users_deleted),
        ("protected", &truth.users_protected),
        ("suspended", &truth.users_suspended),
    ] {
        let sql = format!("SELECT CAST(user_id AS TEXT) FROM user_states WHERE {state}");
        assert_eq!(id_set(&db, &sql).await, ids(list), "users {state} now");
    }

    // The simulator forgets the drop of a Post it later deletes; the archive keeps the
    // marker of a Post it no longer holds.
    let dropped = id_set(
        &db,
        "SELECT CAST(tweet_id AS TEXT) FROM tweet_drops WHERE dropped",
    )
    .await;
    let want = ids(&truth.dropped_tweets);
    assert!(want.is_subset(&dropped), "every Post dropped now is marked");
    assert!(
        dropped.difference(&want).all(|id| tombstones.contains(id)),
        "only deleted Posts keep a drop the truth does not hold"
    );
    let visible = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets_visible").await;
    assert!(want.is_disjoint(&visible), "a dropped Post is visible");
});

/// A jobs API scripted by a scenario file alone: a foreign job holding the type (409s) for half
/// a second, one 429 per job, a failed then an expired job, explicit verdicts and every third id.
const JOBS_SCENARIO: &str = "[jobs]\n\
    outcomes = [\"failed\", \"expired\", \"complete\"]\n\
    in_progress_secs = 0.2\n\
    rate_limited_polls = 1\n\
    foreign_job_secs = 0.5\n\
    delete_every = 3\n\
    verdicts = [{ id = 101, action = \"delete\", reason = \"suspended\" }, \
                { id = 104, action = \"delete\", reason = \"bounced\" }]\n\n\
    [[connection]]\nsteps = [{ idle = \"forever\" }]\n";

/// `streamvault simulate --scenario PATH` started on a free port: the process and its address.
fn simulate(scenario: &std::path::Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["simulate", "--listen", "127.0.0.1:0", "--scenario"])
        .arg(scenario)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run streamvault simulate");
    let mut first = String::new();
    let mut out = BufReader::new(sim.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    let addr = first.trim().strip_prefix("listening on ").expect(&first);
    (sim, addr.to_string())
}

/// `streamvault compliance sweep` of `db` against the jobs API at `addr`: its summary line.
fn sweep(db: &common::TestDb, addr: &str) -> String {
    let dir = db.dir.path();
    std::fs::write(dir.join("token"), "test-token\n").unwrap();
    let config = format!(
        "[compliance]\napi_base = \"http://{addr}\"\nbearer_token_file = \"{}\"\n\n\
         [reconnect]\nbackoff_scale = 0.05\n",
        dir.join("token").display()
    );
    std::fs::write(dir.join("sweep.toml"), config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["--config", dir.join("sweep.toml").to_str().unwrap()])
        .args(["--database", &db.url, "compliance", "sweep"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

/// The simulator's list of tweets jobs: (name, status) of each.
async fn jobs_listed(addr: &str) -> BTreeSet<(String, String)> {
    let url = format!("http://{addr}/2/compliance/jobs?type=tweets");
    let text = reqwest::Client::new()
        .get(url)
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = body["data"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap_or("").into(),
                j["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect()
}

// `streamvault simulate --scenario FILE` serves the jobs API as the file's `[jobs]` table says,
// and `streamvault compliance sweep` gets through every scripted obstacle to the same verdicts.
both_backends!(
    a_scenario_files_jobs_table_scripts_the_jobs_api,
    |db| async {
        let lines: Vec<String> = (101..=106)
            .map(|id| common::tweet(id, 5, &format!("swept {id}")))
            .collect();
        db.replay_lines(&lines.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
        let scenario = db.dir.path().join("jobs.toml");
        std::fs::write(&scenario, JOBS_SCENARIO).unwrap();
        let (mut sim, addr) = simulate(&scenario);
        let said = sweep(&db, &addr);
        let listed = jobs_listed(&addr).await;
        std::process::Command::new("kill")
            .args(["-TERM", &sim.id().to_string()])
            .status()
            .unwrap();
        sim.wait().unwrap();
        let want =
            "jobs created 3, resumed 0, failed or expired 2; verdicts applied 3, kept unapplied 1";
        assert!(said.contains(want), "{said}");
        let statuses: Vec<&str> = listed.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(listed.len(), 4, "{listed:?}");
        assert!(
            listed.iter().any(|(n, _)| n == "another-client"),
            "the conflicting job: {listed:?}"
        );
        for status in ["failed", "expired"] {
            assert!(statuses.contains(&status), "{listed:?}");
        }
        let left = id_set(&db, "SELECT CAST(tweet_id AS TEXT) FROM tweets").await;
        assert_eq!(
            left,
            BTreeSet::from([103, 104, 106]),
            "101, 102 and 105 are gone"
        );
        let sql = "SELECT status FROM compliance_jobs ORDER BY created_at";
        let statuses: Vec<_> = db
            .rows(sql)
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect();
        assert_eq!(statuses, ["failed", "expired", "applied"]);
    }
);
