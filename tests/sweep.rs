//! The batch compliance sweep against the simulator's jobs API, on both backends: every verdict
//! applied exactly, failed and expired jobs retried as new jobs, a foreign running job waited
//! for, 429s honoured, hostile result lines counted, and a kill -9 mid-sweep continued by the
//! next run without a second job.

mod common;

use common::{TestDb, geo_tweet, retweet, tweet};
use std::time::{Duration, Instant};
use streamvault::simulate::jobs::JobsSettings;
use streamvault::simulate::{Simulator, SimulatorConfig};
use streamvault::source::secrets::Secret;
use streamvault::sweep::{JobsApi, SweepOptions, SweepSummary, sweep};
use streamvault::sweep_results::JobType;
use streamvault::with_store;

async fn simulator(jobs: JobsSettings) -> Simulator {
    Simulator::start(SimulatorConfig {
        jobs,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap()
}

fn verdicts(list: &[(i64, &str, &str)]) -> JobsSettings {
    JobsSettings {
        verdicts: list
            .iter()
            .map(|(id, a, r)| (*id, (a.to_string(), r.to_string())))
            .collect(),
        in_progress_for: Duration::from_millis(50),
        ..JobsSettings::default()
    }
}

fn options(job_type: JobType, chunk_ids: u64) -> SweepOptions {
    SweepOptions {
        job_type,
        since: None,
        chunk_ids,
        max_attempts: 3,
        poll_max: Duration::from_secs(2),
        scale: 0.01,
    }
}

async fn run(db: &TestDb, sim: &Simulator, opts: &SweepOptions) -> SweepSummary {
    let api = JobsApi::new(&format!("http://{}", sim.addr()), Secret::new("test-token")).unwrap();
    with_store!(db.backend.clone(), s => sweep(&s, &api, opts).await).unwrap()
}

/// An archive of Posts 101..=106 (103 located, by user 7), and 201 retweeting 101.
async fn archive(db: &TestDb) {
    let original = tweet(101, 5, "SWEEPMARK-101");
    let lines = [
        original.clone(),
        tweet(102, 5, "SWEEPMARK-102"),
        geo_tweet(103, 7, "located"),
        tweet(104, 5, "bounced"),
        tweet(105, 6, "compliant"),
        geo_tweet(106, 7, "located later"),
        retweet(201, 8, &original),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&refs).await;
}

both_backends!(every_verdict_is_applied_exactly, |db| async {
    archive(&db).await;
    let mut jobs = verdicts(&[
        (101, "delete", "deleted"),
        (102, "delete", "protected"),
        (103, "delete", "scrub_geo"),
        (104, "delete", "bounced"),
        (999, "delete", "deleted"),
    ]);
    jobs.extra_lines = vec![
        "not json".into(),
        r#"{"id":"12x","action":"delete"}"#.into(),
        format!(r#"{{"id":"1","action":"{}"}}"#, "x".repeat(5000)),
    ];
    let sim = simulator(jobs).await;
    let summary = run(&db, &sim, &options(JobType::Tweets, 100)).await;
    assert_eq!(summary.jobs_created, 1);
    assert_eq!(summary.malformed_lines, 3);
    // 101, 102 deleted, 103 scrubbed; 104 (unknown reason) kept; 999 was never uploaded.
    assert_eq!((summary.verdicts_applied, summary.verdicts_kept), (3, 1));
    let left = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweet_id")
        .await;
    let left: Vec<_> = left.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(
        left,
        ["103", "104", "105", "106"],
        "101, 102 and the retweet 201 erased"
    );
    assert_eq!(db.int("SELECT COUNT(*) FROM deletions").await, 2);
    let audit = db
        .rows(
            "SELECT kind, CAST(target_id AS TEXT), source, reason, CAST(rows_affected AS TEXT) \
             FROM compliance_actions ORDER BY kind, target_id",
        )
        .await;
    let audit: Vec<Vec<String>> = audit
        .into_iter()
        .map(|r| r.into_iter().map(|c| c.unwrap_or_default()).collect())
        .collect();
    assert_eq!(
        audit,
        [
            ["delete", "101", "sweep", "deleted", "2"],
            ["delete", "102", "sweep", "protected", "1"],
            ["scrub_geo", "7", "sweep", "scrub_geo", "1"],
        ]
    );
    // 103 scrubbed; 106 (after the flagged Post) keeps its location.
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 103 AND longitude IS NULL")
            .await,
        1
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 106 AND longitude IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        db.text("SELECT outcome FROM compliance_verdicts WHERE target_id = 104")
            .await
            .as_deref(),
        Some("unknown")
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM compliance_verified WHERE target = 'tweet'")
            .await,
        4
    );
    // The audit report shows when the ids were last verified.
    use streamvault::report::{ReportFormat, ReportWindow, build};
    let report = build(&db.backend, &ReportWindow::default()).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&report.render(ReportFormat::Json)).unwrap();
    assert_eq!(json["compliance"]["verified"][0]["target"], "tweet");
    assert_eq!(json["compliance"]["verified"][0]["ids"], 4);
    assert!(json["compliance"]["verified"][0]["oldest_verified_at"].is_string());
    let text = report.render(ReportFormat::Text);
    assert!(
        text.contains("Ids verified by the compliance sweep: 4 tweets"),
        "{text}"
    );
    let (created, sim_jobs) = sim.jobs();
    assert_eq!(created, 1);
    assert_eq!(sim_jobs[0].ids_uploaded, 7);
    assert!(db.files_containing("SWEEPMARK-101").is_empty() || db.is_postgres());
    // A second sweep applies nothing again and records nothing new.
    let again = run(&db, &sim, &options(JobType::Tweets, 100)).await;
    assert_eq!(again.jobs_created, 1);
    assert_eq!(db.int("SELECT COUNT(*) FROM compliance_actions").await, 3);
});

both_backends!(chunks_failures_and_expiry_make_new_jobs, |db| async {
    archive(&db).await;
    let mut jobs = verdicts(&[(101, "delete", "deleted"), (105, "delete", "suspended")]);
    jobs.outcomes = vec!["failed".into(), "expired".into(), "complete".into()];
    let sim = simulator(jobs).await;
    // Chunks of 4: 101..=104, then 105, 106, 201.
    let summary = run(&db, &sim, &options(JobType::Tweets, 4)).await;
    assert_eq!(summary.chunks, 2);
    assert_eq!(summary.jobs_failed, 2);
    assert_eq!(summary.jobs_created, 4);
    assert_eq!(summary.verdicts_applied, 2);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id IN (101, 105, 201)")
            .await,
        0
    );
    let statuses = db
        .rows("SELECT status FROM compliance_jobs ORDER BY created_at")
        .await;
    let statuses: Vec<_> = statuses
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "expired", "applied", "applied"]);
    assert_eq!(sim.jobs().0, 4);
});

both_backends!(a_foreign_job_is_waited_for_and_429s_honoured, |db| async {
    archive(&db).await;
    let mut jobs = verdicts(&[(102, "delete", "deactivated")]);
    jobs.foreign_job_for = Some(Duration::from_millis(400));
    jobs.rate_limited_polls = 2;
    let sim = simulator(jobs).await;
    let started = Instant::now();
    let summary = run(&db, &sim, &options(JobType::Tweets, 100)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the 409 was waited out"
    );
    assert_eq!(summary.jobs_created, 1);
    assert_eq!(summary.verdicts_applied, 1);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 102")
            .await,
        0
    );
});

both_backends!(a_user_delete_erases_profile_and_posts, |db| async {
    archive(&db).await;
    let sim = simulator(verdicts(&[(5, "delete", "suspended"), (6, "erase", "x")])).await;
    let summary = run(&db, &sim, &options(JobType::Users, 100)).await;
    assert_eq!((summary.verdicts_applied, summary.verdicts_kept), (1, 1));
    assert_eq!(
        db.int("SELECT COUNT(*) FROM users WHERE user_id = 5").await,
        0
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE user_id = 5")
            .await,
        0
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 201")
            .await,
        0,
        "retweet cascade"
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM compliance_actions WHERE kind = 'user_erase' AND reason = 'suspended'").await,
        1
    );
    assert_eq!(
        db.int(
            "SELECT COUNT(*) FROM compliance_actions WHERE kind = 'delete' AND source = 'sweep'"
        )
        .await,
        3
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM users WHERE user_id = 6").await,
        1
    );
});

// The real binary, killed with SIGKILL while its job is in progress, then run again: the same
// job is finished, no second one is created.
both_backends!(kill9_mid_sweep_resumes_the_same_job, |db| async {
    archive(&db).await;
    let mut jobs = verdicts(&[(101, "delete", "deleted")]);
    jobs.in_progress_for = Duration::from_secs(3);
    let sim = simulator(jobs).await;
    let dir = db.dir.path();
    std::fs::write(dir.join("token"), "test-token\n").unwrap();
    let config = format!(
        "[compliance]\napi_base = \"http://{}\"\nbearer_token_file = \"{}\"\n\n[reconnect]\nbackoff_scale = 0.05\n",
        sim.addr(),
        dir.join("token").display()
    );
    std::fs::write(dir.join("sweep.toml"), config).unwrap();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .args(["--config", dir.join("sweep.toml").to_str().unwrap()])
            .args(["--database", &db.url, "compliance", "sweep"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.jobs().1.iter().all(|j| j.uploads == 0) {
        assert!(Instant::now() < deadline, "the first run never uploaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 101")
            .await,
        1
    );
    let second = start().wait_with_output().unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(out.contains("jobs created 0, resumed 1"), "{out}");
    assert_eq!(sim.jobs().0, 1, "no second job");
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id IN (101, 201)")
            .await,
        0
    );
    assert_eq!(db.int("SELECT COUNT(*) FROM compliance_jobs").await, 1);
    assert_eq!(
        db.text("SELECT status FROM compliance_jobs")
            .await
            .as_deref(),
        Some("applied")
    );
});

// The daemon sweeps on its own (`[compliance] sweep_every`) beside a running stream, the
// verdicts landing in the archive it writes.
both_backends!(the_daemon_sweeps_on_schedule, |db| async {
    use common::daemon::{Daemon, stream, wait_until};
    archive(&db).await;
    let sim = simulator(verdicts(&[(104, "delete", "deleted")])).await;
    let compliance = format!(
        "[compliance]\nsweep_every = \"1h\"\napi_base = \"http://{}\"\nbearer_token_env = \"SV_TEST_TOKEN\"\n",
        sim.addr()
    );
    let streams = [stream("s", &sim, "/1.1/statuses/sample.json", "clean")];
    let daemon = Daemon::start_with(&db, &streams, 0.05, &compliance, &[]);
    wait_until(
        "the scheduled sweep applied",
        Duration::from_secs(60),
        || async {
            db.int("SELECT COUNT(*) FROM compliance_jobs WHERE status = 'applied'")
                .await
                == 1
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(30));
    assert_eq!(exit.code, Some(0), "{}", common::logs::tail(&exit.log, 30));
    let jobs = db.rows("SELECT CAST(ids AS TEXT), CAST(verdicts_applied AS TEXT), CAST(first_id AS TEXT), CAST(lines_applied AS TEXT) FROM compliance_jobs").await;
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 104")
            .await,
        0,
        "{jobs:?} {:?}",
        sim.jobs()
    );
    assert_eq!(sim.jobs().0, 1);
    assert!(!exit.log.contains("test-token-not-logged"));
});

// A crash between the create's answer and its record: the job is on the server under our name,
// the archive knows only that it was about to be created. The next sweep adopts it (the 409
// that a second create would get is never needed) instead of waiting or creating another.
both_backends!(a_job_created_before_a_crash_is_adopted, |db| async {
    archive(&db).await;
    let sim = simulator(verdicts(&[(105, "delete", "deleted")])).await;
    // A first sweep records its chunk and is stopped before it creates anything: emulated by
    // a run against a dead API address with no retries left.
    let dead = JobsApi::new("http://127.0.0.1:9", Secret::new("t")).unwrap();
    let mut opts = options(JobType::Tweets, 100);
    opts.scale = 0.0;
    let cut = with_store!(db.backend.clone(), s => sweep(&s, &dead, &opts).await);
    assert!(cut.is_err());
    let name = db.text("SELECT name FROM compliance_jobs").await.unwrap();
    assert_eq!(
        db.text("SELECT status FROM compliance_jobs")
            .await
            .as_deref(),
        Some("creating")
    );
    // ... while its create did reach the server.
    let created = reqwest::Client::new()
        .post(format!("http://{}/2/compliance/jobs", sim.addr()))
        .bearer_auth("t")
        .body(serde_json::json!({"type": "tweets", "name": name}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let summary = run(&db, &sim, &options(JobType::Tweets, 100)).await;
    assert_eq!((summary.jobs_created, summary.jobs_resumed), (0, 1));
    assert_eq!(sim.jobs().0, 1, "adopted, not created again");
    assert_eq!(
        db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id = 105")
            .await,
        0
    );
});
