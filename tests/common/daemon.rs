//! The real daemon (`streamvault run`) against the in-process simulator: configs, signals, waits.

use super::TestDb;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use streamvault::simulate::{Scenario, Simulator, SimulatorConfig, Stats};

/// A simulator on a free loopback port.
pub async fn simulator(scenario: Scenario, rate: f64) -> Simulator {
    Simulator::start(SimulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario,
        rate,
        seed: 7,
        keepalive: Duration::from_millis(200),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A builtin scenario by name.
pub fn builtin(name: &str) -> Scenario {
    Scenario::builtin(name).unwrap_or_else(|| panic!("no builtin scenario {name}"))
}

/// A scenario from TOML text, through a file as users write them.
pub fn scenario_toml(dir: &std::path::Path, toml: &str) -> Scenario {
    let path = dir.join(format!("scenario-{}.toml", super::rand_suffix()));
    std::fs::write(&path, toml).unwrap();
    Scenario::load(path.to_str().unwrap()).unwrap()
}

/// One `[[stream]]` of a test config.
#[derive(Clone)]
pub struct StreamSpec {
    pub name: String,
    pub family: &'static str,
    pub url: String,
    pub extra: String,
}

/// A stream reading `path` of `sim` with the given scenario.
pub fn stream(name: &str, sim: &Simulator, path: &str, scenario: &str) -> StreamSpec {
    StreamSpec {
        name: name.into(),
        family: "ndjson",
        url: format!("http://{}{path}?scenario={scenario}", sim.addr()),
        extra: String::new(),
    }
}

/// A topics stream on `sim`'s live pipeline with the given scenario and topics.
pub fn topics_stream(name: &str, sim: &Simulator, scenario: &str, topics: &[&str]) -> StreamSpec {
    StreamSpec {
        name: name.into(),
        family: "topics",
        url: format!(
            "http://{}/live_pipeline/events?scenario={scenario}",
            sim.addr()
        ),
        extra: format!(
            "update_url = \"http://{}/1.1/live_pipeline/update_subscriptions\"\ntopics = {:?}\n",
            sim.addr(),
            topics
        ),
    }
}

/// The config file of a test daemon.
fn config_text(db: &TestDb, streams: &[StreamSpec], scale: f64) -> String {
    let mut config = format!(
        "[database]\nurl = {:?}\nflush_interval_ms = 50\n\n[reconnect]\nbackoff_scale = {scale}\n",
        db.url
    );
    config.push_str(&spool_section(&db.url, db.dir.path()));
    for s in streams {
        config.push_str(&format!(
            "\n[[stream]]\nname = {:?}\nfamily = {:?}\nurl = {:?}\nbearer_token_env = \"SV_TEST_TOKEN\"\n{}\n",
            s.name, s.family, s.url, s.extra
        ));
    }
    config
}

/// A running `streamvault run`.
pub struct Daemon {
    child: Child,
    pub log: PathBuf,
    pub config: PathBuf,
}

/// What a stopped daemon left.
#[derive(Debug)]
pub struct Exit {
    pub code: Option<i32>,
    pub log: String,
    /// From the stop request (or the start, without one) to the exit.
    pub took: Duration,
}

impl Daemon {
    /// Starts the daemon on `db` with `streams`; every policy wait multiplied by `scale`.
    pub fn start(db: &TestDb, streams: &[StreamSpec], scale: f64) -> Daemon {
        Self::start_with(db, streams, scale, "", &[])
    }

    /// [`Daemon::start`] with more config text (other sections) and environment variables.
    pub fn start_with(
        db: &TestDb,
        streams: &[StreamSpec],
        scale: f64,
        extra_config: &str,
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut base = config_text(db, streams, scale);
        if extra_config.contains("[spool]") {
            base = base.replace(&spool_section(&db.url, db.dir.path()), "");
        }
        let config = format!("{base}\n{extra_config}\n");
        let dir = db.dir.path();
        let n = super::rand_suffix();
        let config_path = dir.join(format!("streamvault-{n}.toml"));
        std::fs::write(&config_path, config).unwrap();
        let log = dir.join(format!("daemon-{n}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .envs(env.iter().copied())
            .env("SV_TEST_TOKEN", "test-token-not-logged")
            .env("RUST_LOG", "info,streamvault=debug,sqlx=warn")
            .env_remove("STREAMVAULT__DATABASE__URL")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("start streamvault run");
        Daemon {
            child,
            log,
            config: config_path,
        }
    }

    /// Rewrites the config file with `text` as it is and sends SIGHUP.
    pub fn reload_text(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
        self.signal("HUP");
    }

    /// Rewrites the config file and sends SIGHUP.
    pub fn reload(&self, db: &TestDb, streams: &[StreamSpec], scale: f64) {
        std::fs::write(&self.config, config_text(db, streams, scale)).unwrap();
        self.signal("HUP");
    }

    /// Sends a signal by name (`TERM`, `HUP`, `USR1`...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// SIGTERM, then waits (at most `within`) for the exit.
    pub fn stop(mut self, within: Duration) -> Exit {
        let asked = Instant::now();
        self.signal("TERM");
        self.wait_exit(within, asked)
    }

    /// Waits for the daemon to exit by itself.
    pub fn exit(mut self, within: Duration) -> Exit {
        self.wait_exit(within, Instant::now())
    }

    fn wait_exit(&mut self, within: Duration, since: Instant) -> Exit {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let took = since.elapsed();
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                assert!(
                    !log.contains("test-token-not-logged"),
                    "the bearer token reached the log"
                );
                return Exit {
                    code: status.code(),
                    log,
                    took,
                };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("daemon did not exit within {within:?}; log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it has not exited by itself).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Peak resident memory so far (`VmHWM`) in KiB, while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `probe` until it returns true, failing with `what` after `within`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !probe().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Lines the simulator sent on its connections to `path` (every scenario).
pub fn sent_on(stats: &Stats, path: &str) -> u64 {
    stats
        .connections
        .iter()
        .filter(|c| c.path == path)
        .map(|c| c.lines_sent)
        .sum()
}

/// A `connections` row, in order of attempts.
#[derive(Debug, Clone)]
pub struct ConnRow {
    pub id: i64,
    pub stream: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub connected: bool,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub end_reason: Option<String>,
    pub http_status: Option<i64>,
    pub disconnect_code: Option<i64>,
    pub messages: i64,
    pub backoff_ms: Option<i64>,
}

fn time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .unwrap_or_else(|e| panic!("time {s:?}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Every `connections` row of `stream`, oldest first.
pub async fn connections(db: &TestDb, stream: &str) -> Vec<ConnRow> {
    // Ordered by the table's column: PostgreSQL names `CAST(connection_id AS TEXT)` after the
    // column, and an unqualified `ORDER BY connection_id` would sort that text ("13" < "2").
    let sql = format!(
        "SELECT CAST(connection_id AS TEXT), stream, CAST(started_at AS TEXT), \
         CAST(connected_at AS TEXT), CAST(ended_at AS TEXT), end_reason, \
         CAST(http_status AS TEXT), CAST(disconnect_code AS TEXT), CAST(messages AS TEXT), \
         CAST(backoff_ms AS TEXT) FROM connections WHERE stream = '{stream}' \
         ORDER BY connections.connection_id"
    );
    let int = |v: &Option<String>| v.as_ref().map(|s| s.parse::<i64>().unwrap());
    db.rows(&sql)
        .await
        .into_iter()
        .map(|r| ConnRow {
            id: int(&r[0]).unwrap(),
            stream: r[1].clone().unwrap(),
            started_at: time(r[2].as_deref().unwrap()),
            connected: r[3].is_some(),
            ended_at: r[4].as_deref().map(time),
            end_reason: r[5].clone(),
            http_status: int(&r[6]),
            disconnect_code: int(&r[7]),
            messages: int(&r[8]).unwrap(),
            backoff_ms: int(&r[9]),
        })
        .collect()
}

/// Asserts a recorded wait is the nominal one (ms, already scaled) within the ±20% jitter.
pub fn assert_wait(row: &ConnRow, nominal_ms: f64) {
    let got = row
        .backoff_ms
        .unwrap_or_else(|| panic!("no wait recorded: {row:?}")) as f64;
    assert!(
        got >= (nominal_ms * 0.8).floor() - 1.0 && got <= (nominal_ms * 1.2).ceil() + 1.0,
        "wait after connection {} ({:?}, code {:?}) was {got} ms, expected {nominal_ms} ms ± 20%",
        row.id,
        row.end_reason,
        row.disconnect_code
    );
}

/// Asserts the next attempt really waited (at least most of) the recorded wait.
pub fn assert_waited(rows: &[ConnRow]) {
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(ended), Some(wait)) = (a.ended_at, a.backoff_ms) else {
            continue;
        };
        let gap = (b.started_at - ended).num_milliseconds();
        assert!(
            gap + 5 >= wait,
            "connection {} started {gap} ms after {} ended, before its {wait} ms wait",
            b.id,
            a.id
        );
    }
}

/// Each test daemon on PostgreSQL gets its own spool, in its test's directory: the default
/// there is the working directory, which every test process shares (an SQLite archive's
/// spool is beside it, its own already).
pub fn spool_section(db_url: &str, dir: &std::path::Path) -> String {
    if !db_url.starts_with("postgres") {
        return String::new();
    }
    format!(
        "\n[spool]\ndir = {:?}\n",
        dir.join("spool").display().to_string()
    )
}
