//! A real `streamvault run` ([`Proc`]) with a config of the test's choosing (flush interval,
//! retry budget), that can be killed with SIGKILL, stopped with SIGTERM, or started under a
//! file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored so writes fail with EFBIG).

use super::daemon::StreamSpec;
use super::logs::tail;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a test daemon is configured.
#[derive(Clone)]
pub struct ProcConfig {
    pub db_url: String,
    pub streams: Vec<StreamSpec>,
    pub flush_interval_ms: u64,
    pub retry_for_secs: u64,
    pub backoff_scale: f64,
    /// `database.purge_within_secs`, when not the default.
    pub purge_within_secs: Option<u64>,
    /// RLIMIT_FSIZE in bytes (SIGXFSZ ignored): every file write past it fails with EFBIG.
    pub file_size_limit: Option<u64>,
    /// More sections, as TOML text (`[spool]`, `[daemon]`).
    pub extra: String,
    /// More environment variables (`STREAMVAULT_FAILPOINT`, see the daemon's `failpoint`).
    pub env: Vec<(String, String)>,
}

impl ProcConfig {
    pub fn new(db_url: &str, streams: Vec<StreamSpec>) -> ProcConfig {
        ProcConfig {
            db_url: db_url.into(),
            streams,
            flush_interval_ms: 50,
            retry_for_secs: 60,
            backoff_scale: 0.01,
            purge_within_secs: None,
            file_size_limit: None,
            extra: String::new(),
            env: Vec::new(),
        }
    }

    fn text(&self, dir: &std::path::Path) -> String {
        let mut config = format!(
            "[database]\nurl = {:?}\nflush_interval_ms = {}\nretry_for_secs = {}\n\n\
             [reconnect]\nbackoff_scale = {}\n",
            self.db_url, self.flush_interval_ms, self.retry_for_secs, self.backoff_scale
        );
        if let Some(secs) = self.purge_within_secs {
            let at = config
                .find("\n\n[reconnect]")
                .expect("the database section");
            config.insert_str(at, &format!("\npurge_within_secs = {secs}"));
        }
        config.push_str(&self.extra);
        if !self.extra.contains("[spool]") {
            config.push_str(&super::daemon::spool_section(&self.db_url, dir));
        }
        for s in &self.streams {
            config.push_str(&format!(
                "\n[[stream]]\nname = {:?}\nfamily = {:?}\nurl = {:?}\n\
                 bearer_token_env = \"SV_TEST_TOKEN\"\n{}\n",
                s.name, s.family, s.url, s.extra
            ));
        }
        config
    }
}

/// A running `streamvault run` that a test may kill.
pub struct Proc {
    child: Option<Child>,
    pub pid: u32,
    pub log: PathBuf,
    pub config: PathBuf,
    pub started: Instant,
}

/// How a daemon ended.
#[derive(Debug)]
pub struct ProcExit {
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub log: String,
    /// From the reference instant given to the wait (a stop request, an outage) to the exit.
    pub took: Duration,
}

impl Proc {
    /// Starts `streamvault run` with `config` in `dir` (config file and log are written there).
    pub fn start(dir: &Path, config: &ProcConfig) -> Proc {
        let n = super::rand_suffix();
        let config_path = dir.join(format!("streamvault-{n}.toml"));
        std::fs::write(&config_path, config.text(dir)).unwrap();
        let log = dir.join(format!("daemon-{n}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let bin = env!("CARGO_BIN_EXE_streamvault");
        let mut command = match config.file_size_limit {
            None => Command::new(bin),
            Some(limit) => {
                // `trap '' XFSZ`: an ignored signal stays ignored across exec, so a write past
                // the limit fails with EFBIG instead of killing the process.
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg("trap '' XFSZ; exec prlimit --fsize=\"$0\":\"$0\" -- \"$@\"")
                    .arg(limit.to_string())
                    .arg(bin);
                c
            }
        };
        let child = command
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .env("SV_TEST_TOKEN", "test-token-not-logged")
            .env("RUST_LOG", "info,streamvault=debug,sqlx=warn")
            .env_remove("STREAMVAULT__DATABASE__URL")
            .env_remove("STREAMVAULT__DATABASE__RETRY_FOR_SECS")
            .env_remove("STREAMVAULT_FAILPOINT")
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("start streamvault run");
        Proc {
            pid: child.id(),
            child: Some(child),
            log,
            config: config_path,
            started: Instant::now(),
        }
    }

    /// SIGKILL now (std's `Child::kill`), reaped; returns the instant just before the signal.
    pub fn kill9(&mut self) -> chrono::DateTime<chrono::Utc> {
        let mut child = self.child.take().expect("daemon running");
        let at = chrono::Utc::now();
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
        at
    }

    /// Sends a signal by name (`TERM`, `HUP`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Whether the process is still running (not reaped, not exited).
    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// SIGTERM, then waits at most `within` for the exit.
    pub fn stop(&mut self, within: Duration) -> ProcExit {
        let asked = Instant::now();
        self.signal("TERM");
        self.wait_exit(within, asked)
    }

    /// Waits at most `within` for the exit; `took` is measured from `since`.
    pub fn wait_exit(&mut self, within: Duration, since: Instant) -> ProcExit {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + within;
        let child = self.child.as_mut().expect("daemon running");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let took = since.elapsed();
                self.child = None;
                let log = self.log_text();
                assert!(
                    !log.contains("test-token-not-logged"),
                    "the bearer token reached the log"
                );
                return ProcExit {
                    code: status.code(),
                    signal: status.signal(),
                    log,
                    took,
                };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.child = None;
                panic!(
                    "daemon did not exit within {within:?}; log:\n{}",
                    tail(&self.log_text(), 60)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Resident memory (VmRSS) in KiB, while it runs.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// Peak resident memory so far (VmHWM) in KiB, while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// A KiB figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // Fields after the command name (which may hold spaces), from field 3 on.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
