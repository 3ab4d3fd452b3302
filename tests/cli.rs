//! The real binary: the README's first command, stdin and gzip input, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn streamvault(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(args)
        .current_dir(dir)
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn readme_first_command_runs_the_demo_and_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(&["demo"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        dir.path().join("streamvault-demo.db").exists(),
        "the demo archive is ./streamvault-demo.db"
    );
    let report = String::from_utf8_lossy(&out.stdout);
    for section in [
        "streamvault audit report",
        "Compliance actions",
        "Gaps (no data delivered)",
        "Disconnect messages",
        "Most-watched tweets",
        "Try next:",
    ] {
        assert!(report.contains(section), "{section} missing:\n{report}");
    }
    // The demo's archive answers the suggested queries.
    let out = streamvault(
        &[
            "--database",
            "sqlite://streamvault-demo.db",
            "query",
            "SELECT COUNT(*) AS n FROM engagement_samples",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let n: i64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(2)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n > 0, "engagement samples were archived");
    let out = streamvault(
        &[
            "--database",
            "sqlite://streamvault-demo.db",
            "report",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["events"]["total"].as_u64().unwrap() > 100, "{json}");
}

#[test]
fn a_five_second_demo_shows_a_fault_and_the_reconnect_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(&["demo", "--seconds", "5"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    // The demo's scripted disconnect (code 12) ends a connection of the v1.1 stream, and a
    // later connection of that stream connects and reads.
    let out = streamvault(
        &[
            "--database",
            "sqlite://streamvault-demo.db",
            "query",
            "SELECT COUNT(*) AS n FROM connections c WHERE c.stream = 'sample' \
             AND c.connected_at IS NOT NULL AND c.messages > 0 AND EXISTS (SELECT 1 FROM \
             connections d WHERE d.stream = 'sample' AND d.disconnect_code = 12 \
             AND d.connection_id < c.connection_id)",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let n: i64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(2)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n >= 1, "a reconnect after the fault: {}", text(&out));
}

#[test]
fn simulate_prints_its_final_stats_once_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["simulate", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run streamvault simulate");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on "), "{first}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    let stats: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&rest)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON stats");
    assert_eq!(stats.len(), 1, "printed once:\n{rest}");
    assert!(stats[0]["totals"]["stall_disconnects"].is_u64(), "{rest}");
}

#[test]
fn the_replay_example_archives_the_sample_and_answers_sql() {
    let dir = tempfile::tempdir().unwrap();
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/sample-stream.jsonl.gz"
    );
    let out = streamvault(&["replay", sample], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        dir.path().join("streamvault.db").exists(),
        "the default archive is ./streamvault.db"
    );
    let query = "SELECT kind, COUNT(*) AS events FROM events GROUP BY kind ORDER BY events DESC";
    let out = streamvault(&["query", query], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let first_row = table.lines().nth(2).unwrap();
    assert!(
        first_row.starts_with("tweet "),
        "statuses dominate the sample: {table}"
    );
    assert!(table.contains("delete"), "{table}");
}

#[test]
fn stdin_and_gzip_inputs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("kinds.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(include_bytes!("fixtures/all_kinds.jsonl"))
        .unwrap();
    enc.finish().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args([
            "replay",
            "--json",
            "--database",
            "sqlite://a.db",
            "-",
            gz.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(include_bytes!("fixtures/bad_input.jsonl"))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["lines"], 7 + 28);
    // The 70 KB line is under the default 1 MiB limit here, so it is a status, not a reject.
    assert_eq!(summary["rejects"], 4);
    assert_eq!(summary["events"], 3 + 27);
}

#[test]
fn bad_database_url_and_bad_config_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(&["migrate", "--database", "mysql://x/y"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("database.url"), "{}", text(&out));

    std::fs::write(
        dir.path().join("bad.toml"),
        "[database]\nflush_interval_ms = 0\n",
    )
    .unwrap();
    let out = streamvault(&["check-config", "--config", "bad.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("database.flush_interval_ms"),
        "{}",
        text(&out)
    );

    let out = streamvault(&["check-config", "--config", "missing.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("missing.toml"), "{}", text(&out));

    let out = streamvault(
        &["replay", "--database", "sqlite://a.db", "nope.jsonl"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nope.jsonl"), "{}", text(&out));
}

#[test]
fn an_unreachable_database_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(
        &[
            "migrate",
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
}

#[test]
fn check_config_redacts_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamvault(
        &[
            "check-config",
            "--database",
            "postgres://u:hunter2@127.0.0.1/db",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"));
    assert!(text(&out).contains("postgres://u:***@127.0.0.1/db"));
}

#[test]
fn check_config_redacts_every_url_and_warns_about_readable_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("filter.token");
    std::fs::write(&token, "tok").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("streamvault.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"postgres://u@127.0.0.1/db?sslmode=require&password=hxq%40ter2\"\n\
             [[stream]]\nname = \"f\"\nfamily = \"ndjson\"\n\
             url = \"https://user:s3cr@t:pw@stream.example/1.1/x.json?access_token=tok3n\"\n\
             bearer_token_file = {:?}\n",
            token.display().to_string()
        ),
    )
    .unwrap();
    let out = streamvault(
        &["check-config", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    for secret in ["hxq", "ter2", "s3cr", "t:pw", "tok3n"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
    assert!(all.contains("password=***"), "{all}");
    assert!(all.contains("https://***@stream.example/"), "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: `stream[0].bearer_token_file`") && stderr.contains("0644"),
        "{stderr}"
    );
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = streamvault(
        &["check-config", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    assert!(!text(&out).contains("warning"), "{}", text(&out));
}

/// The shipped unit and example configuration agree with each other and with the daemon's
/// bounds; `systemd-analyze security` (where installed) rates the unit 1.5 or better.
#[test]
fn the_systemd_unit_fits_the_daemon() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("systemd/streamvault.service")).unwrap();
    let setting = |key: &str| -> Vec<String> {
        unit.lines()
            .filter_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
            .collect()
    };
    let secs = |key: &str| setting(key)[0].parse::<u64>().unwrap();
    // Above the daemon's stop bound (shutdown_timeout_secs, 20 s by default).
    assert!(secs("TimeoutStopSec") >= 20 + 25);
    // Above retry_for_secs (60 s by default) and one last attempt.
    assert!(secs("WatchdogSec") >= 60 + 60);
    assert_eq!(setting("SystemCallErrorNumber"), ["EPERM"]);
    let prevent = &setting("RestartPreventExitStatus")[0];
    for code in ["1", "2", "3", "101"] {
        assert!(prevent.split(' ').any(|c| c == code), "{prevent}");
    }
    assert!(!prevent.split(' ').any(|c| c == "4"), "exit 4 must restart");
    let tasks: u64 = secs("TasksMax");
    assert!(tasks >= 16 + 64 + 10, "{tasks}");
    // Every credential the example configuration names is loaded by the unit.
    let dir = tempfile::tempdir().unwrap();
    let example = root.join("systemd/streamvault.toml");
    let config = std::fs::read_to_string(&example).unwrap();
    let loaded = setting("LoadCredential");
    for line in config.lines().filter(|l| l.contains("_credential = ")) {
        let name = line.split('"').nth(1).unwrap();
        assert!(
            loaded.iter().any(|l| l.starts_with(&format!("{name}:"))),
            "{name} not loaded: {loaded:?}"
        );
    }
    let out = streamvault(
        &["check-config", "--config", example.to_str().unwrap()],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("bearer_token_credential = \"filter.token\""));
    let analyze = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=15"])
        .arg(root.join("systemd/streamvault.service"))
        .output();
    // Only where systemd-analyze knows --offline (systemd 250+).
    if let Some(out) = analyze
        .ok()
        .filter(|o| text(o).contains("Overall exposure level"))
    {
        assert!(out.status.success(), "exposure above 1.5:\n{}", text(&out));
    }
}
