//! Fault injection for the crash and outage tests (`tests/crash.rs`, `tests/outage.rs`):
//!
//! - [`Proc`]: a real `streamvault run` with a config of the test's choosing (flush interval,
//!   retry budget), that can be killed with SIGKILL, stopped with SIGTERM, or started under a
//!   file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored so writes fail with EFBIG);
//! - [`Proxy`]: a TCP proxy in front of PostgreSQL that can cut every current connection and
//!   then refuse (listener closed: ECONNREFUSED, as a stopped server), reset (accept, then RST)
//!   or black-hole (accept, never answer) new ones until it is restored; and that can swallow
//!   the reply to the next `COMMIT` (the commit happens, the client never learns it);
//! - SQLite inspection from outside the daemon ([`sqlite_pool`], [`integrity`]);
//! - the simulator's reference stream ([`reference_stream`]): what a fresh simulator with a
//!   given seed sends, in order, to compare an archive with as a prefix;
//! - a tmpfs mount ([`Tmpfs`]) for disk-full tests, and [`require`] for tests that need a
//!   capability of the machine (skipped with `SKIPPED: reason` outside CI, failing under CI).
#![allow(dead_code)]

use super::daemon::StreamSpec;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Whether the tests run under CI (`CI=true`), where a missing capability is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A capability the test needs: `Err(reason)` is a failure under CI, a `SKIPPED` note
/// otherwise (the caller returns). Returns whether the test can go on.
pub fn require(what: &str, check: Result<(), String>) -> bool {
    match check {
        Ok(()) => true,
        Err(reason) if under_ci() => panic!("{what} is required under CI=true: {reason}"),
        Err(reason) => {
            eprintln!("SKIPPED: {what}: {reason}");
            false
        }
    }
}

/// How a test daemon is configured.
#[derive(Clone)]
pub struct ProcConfig {
    pub db_url: String,
    pub streams: Vec<StreamSpec>,
    pub flush_interval_ms: u64,
    pub retry_for_secs: u64,
    pub backoff_scale: f64,
    /// RLIMIT_FSIZE in bytes (SIGXFSZ ignored): every file write past it fails with EFBIG.
    pub file_size_limit: Option<u64>,
    /// More sections, as TOML text (`[spool]`, `[daemon]`).
    pub extra: String,
}

impl ProcConfig {
    pub fn new(db_url: &str, streams: Vec<StreamSpec>) -> ProcConfig {
        ProcConfig {
            db_url: db_url.into(),
            streams,
            flush_interval_ms: 50,
            retry_for_secs: 60,
            backoff_scale: 0.01,
            file_size_limit: None,
            extra: String::new(),
        }
    }

    fn text(&self) -> String {
        let mut config = format!(
            "[database]\nurl = {:?}\nflush_interval_ms = {}\nretry_for_secs = {}\n\n\
             [reconnect]\nbackoff_scale = {}\n",
            self.db_url, self.flush_interval_ms, self.retry_for_secs, self.backoff_scale
        );
        config.push_str(&self.extra);
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
        std::fs::write(&config_path, config.text()).unwrap();
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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
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

/// The last `n` lines of a log, for failure messages.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// SQLite from outside the daemon

/// A pool on an existing SQLite file (never creates one). Opening it after a crash runs
/// SQLite's WAL recovery, as any reader would.
pub async fn sqlite_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("the database {} does not open: {e}", path.display()))
}

/// `PRAGMA integrity_check`, its rows joined (`"ok"` when sound).
pub async fn integrity(pool: &SqlitePool) -> String {
    sqlx::query("PRAGMA integrity_check")
        .fetch_all(pool)
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|e| format!("integrity_check failed to run: {e}"))
}

/// One integer from a query.
pub async fn int(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<Option<i64>, _>(0)
        .unwrap_or(0)
}

/// Status events whose status is neither archived nor deleted: must be 0.
pub const ORPHAN_TWEET_EVENTS: &str = "SELECT COUNT(*) FROM events e WHERE kind = 'tweet' \
     AND NOT EXISTS (SELECT 1 FROM tweets t WHERE t.tweet_id = e.tweet_id) \
     AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.tweet_id = e.tweet_id)";

// ---------------------------------------------------------------------------------------------
// The simulator's reference stream

/// One line of the stream as the archive should show it: the event kind, and for a status its
/// id (the archive's `events.tweet_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefEvent {
    pub kind: String,
    pub tweet_id: Option<i64>,
    /// For a retweet, the id of the status it carries.
    pub retweet_of: Option<i64>,
}

/// The kind of an ndjson line by its top-level key, as the daemon names it.
pub fn classify(line: &[u8]) -> RefEvent {
    let v: serde_json::Value = serde_json::from_slice(line).expect("the simulator sends JSON");
    for key in [
        "delete",
        "scrub_geo",
        "limit",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
    ] {
        if v.get(key).is_some() {
            return RefEvent {
                kind: key.into(),
                tweet_id: None,
                retweet_of: None,
            };
        }
    }
    let id = |v: &serde_json::Value| v["id_str"].as_str().and_then(|s| s.parse().ok());
    RefEvent {
        kind: "tweet".into(),
        tweet_id: id(&v),
        retweet_of: v.get("retweeted_status").and_then(id),
    }
}

/// The first `n` lines (keep-alives excluded) that a fresh simulator with `seed` and the
/// `clean` scenario sends on its first connection, read as fast as it can send them.
pub async fn reference_stream(seed: u64, n: usize) -> Vec<RefEvent> {
    use futures_util::StreamExt;
    let sim = streamvault::simulate::Simulator::start(streamvault::simulate::SimulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario: super::daemon::builtin("clean"),
        rate: 0.0,
        seed,
        keepalive: Duration::from_secs(30),
    })
    .await
    .unwrap();
    let url = format!(
        "http://{}/1.1/statuses/filter.json?scenario=clean",
        sim.addr()
    );
    let response = reqwest::get(&url).await.unwrap();
    let mut body = response.bytes_stream();
    let mut pending = Vec::new();
    let mut out = Vec::with_capacity(n);
    'read: while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk.unwrap());
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &pending[start..]) {
            let line = pending[start..start + end].trim_ascii();
            start += end + 1;
            if !line.is_empty() {
                out.push(classify(line));
                if out.len() == n {
                    break 'read;
                }
            }
        }
        pending.drain(..start);
    }
    drop(body);
    sim.stop().await;
    out
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy with an off switch

/// What the proxy does with connections while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Up: every connection is forwarded.
    None,
    /// The listening socket is closed: connection attempts get ECONNREFUSED (a stopped server).
    Refuse,
    /// Connections are accepted and reset at once (RST).
    Reset,
    /// Connections are accepted and never answered (a host that stopped responding).
    BlackHole,
}

struct ProxyShared {
    upstream: SocketAddr,
    forwarders: Mutex<JoinSet<()>>,
    held: Mutex<Vec<TcpStream>>,
    /// Armed: the reply to the next `COMMIT` is swallowed and its connection cut.
    commit_trap: AtomicBool,
    commits_trapped: AtomicU64,
    accepted: AtomicU64,
    turned_away: AtomicU64,
}

/// A loopback TCP proxy to `upstream` on a fixed port, with an off switch.
pub struct Proxy {
    pub addr: SocketAddr,
    outage: watch::Sender<Outage>,
    shared: Arc<ProxyShared>,
    task: tokio::task::JoinHandle<()>,
}

/// The simple-query message sqlx sends to commit a transaction: `Q`, length 11, `COMMIT\0`.
const COMMIT_QUERY: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

impl Proxy {
    /// Listens on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(ProxyShared {
            upstream,
            forwarders: Mutex::new(JoinSet::new()),
            held: Mutex::new(Vec::new()),
            commit_trap: AtomicBool::new(false),
            commits_trapped: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            turned_away: AtomicU64::new(0),
        });
        let (outage, watcher) = watch::channel(Outage::None);
        let task = tokio::spawn(accept_loop(listener, addr, watcher, shared.clone()));
        Proxy {
            addr,
            outage,
            shared,
            task,
        }
    }

    /// Cuts every current connection (both sockets closed) and treats new ones as `how` says,
    /// until [`Proxy::restore`].
    pub fn cut(&self, how: Outage) {
        self.outage.send_replace(how);
        self.cut_current();
    }

    /// Closes every forwarded connection now, without changing the mode.
    pub fn cut_current(&self) {
        self.shared.forwarders.lock().unwrap().abort_all();
    }

    /// Forwards new connections again (held black-holed ones are closed).
    pub fn restore(&self) {
        self.outage.send_replace(Outage::None);
        self.shared.held.lock().unwrap().clear();
    }

    /// Arms the trap: the next `COMMIT` goes through to the server, its reply never comes
    /// back, and that connection is cut 200 ms later.
    pub fn swallow_next_commit_reply(&self) {
        self.shared.commit_trap.store(true, Ordering::SeqCst);
    }

    /// Commits whose reply was swallowed so far.
    pub fn commits_swallowed(&self) -> u64 {
        self.shared.commits_trapped.load(Ordering::SeqCst)
    }

    /// Connections accepted and forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections refused, reset or black-holed during outages (refusals by a closed
    /// listener are not seen and not counted).
    pub fn turned_away(&self) -> u64 {
        self.shared.turned_away.load(Ordering::SeqCst)
    }

    /// Rewrites a `postgres://` URL to go through this proxy (host and port replaced).
    pub fn url_for(&self, url: &str) -> String {
        let scheme_end = url.find("://").expect("a URL") + 3;
        let rest = &url[scheme_end..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let userinfo = authority
            .rfind('@')
            .map(|at| &authority[..=at])
            .unwrap_or("");
        format!(
            "{}{}{}{}",
            &url[..scheme_end],
            userinfo,
            self.addr,
            &rest[authority_end..]
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_current();
        self.shared.held.lock().unwrap().clear();
    }
}

async fn accept_loop(
    first: TcpListener,
    addr: SocketAddr,
    mut outage: watch::Receiver<Outage>,
    shared: Arc<ProxyShared>,
) {
    let mut listener = Some(first);
    loop {
        let Some(l) = &listener else {
            // Refusing: no listening socket until the mode changes.
            if outage.changed().await.is_err() {
                return;
            }
            if *outage.borrow() != Outage::Refuse {
                listener = Some(rebind(addr).await);
            }
            continue;
        };
        tokio::select! {
            accepted = l.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let mode = *outage.borrow();
                match mode {
                    Outage::None => {
                        shared.accepted.fetch_add(1, Ordering::SeqCst);
                        let s = shared.clone();
                        shared.forwarders.lock().unwrap().spawn(forward(socket, s));
                    }
                    Outage::Reset => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        let _ = socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                    Outage::BlackHole => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        shared.held.lock().unwrap().push(socket);
                    }
                    Outage::Refuse => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        drop(socket);
                    }
                }
            }
            changed = outage.changed() => {
                if changed.is_err() {
                    return;
                }
                if *outage.borrow() == Outage::Refuse {
                    listener = None; // closed: the port now refuses connections
                }
            }
        }
    }
}

/// Binds the proxy's port again after a refusing spell.
async fn rebind(addr: SocketAddr) -> TcpListener {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the proxy cannot listen on {addr} again: {last:?}");
}

/// Forwards one connection both ways until either side closes (or the task is aborted).
async fn forward(client: TcpStream, shared: Arc<ProxyShared>) {
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let muted = AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let trapped = shared.commit_trap.load(Ordering::SeqCst)
                && memchr::memmem::find(chunk, COMMIT_QUERY).is_some()
                && shared.commit_trap.swap(false, Ordering::SeqCst);
            if trapped {
                muted.store(true, Ordering::SeqCst);
            }
            if sw.write_all(chunk).await.is_err() {
                return;
            }
            if trapped {
                // Let the server commit; the client never hears of it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                shared.commits_trapped.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if muted.load(Ordering::SeqCst) {
                continue;
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

// ---------------------------------------------------------------------------------------------
// A small filesystem for disk-full tests

/// A tmpfs mounted on a fresh directory; unmounted on drop.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_mib` MiB, or says why it cannot.
    pub fn mount(size_mib: u64) -> Result<Tmpfs, String> {
        let dir = std::env::temp_dir().join(format!("sv-tmpfs-{}", super::rand_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(format!(
                "mount -t tmpfs failed (needs root or CAP_SYS_ADMIN): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    /// Fills the free space with a file (written until ENOSPC); returns its path and size.
    pub fn fill(&self, name: &str) -> (PathBuf, u64) {
        use std::io::Write;
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0xA5u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        // Smaller writes until not even a byte fits.
        for size in [4096usize, 512, 1] {
            loop {
                match f.write(&block[..size]) {
                    Ok(n) if n > 0 => written += n as u64,
                    _ => break,
                }
            }
        }
        let _ = f.sync_all();
        (path, written)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `prlimit` (util-linux) is on PATH.
pub fn have_prlimit() -> Result<(), String> {
    match Command::new("prlimit").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("prlimit --version failed: {:?}", o.status)),
        Err(e) => Err(format!("prlimit (util-linux) is not available: {e}")),
    }
}

/// The server address of a `postgres://` URL (default port 5432), for [`Proxy::start`].
pub async fn pg_server(url: &str) -> SocketAddr {
    let rest = &url[url.find("://").expect("a URL") + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit('@').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(&host_port)
        .await
        .unwrap_or_else(|e| panic!("cannot resolve {host_port}: {e}"))
        .next()
        .unwrap()
}

/// A log without its ANSI colour codes.
pub fn strip_ansi(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Seconds from `since` of every log line containing `needle` (lines start with an RFC 3339
/// time).
pub fn offsets_of(log: &str, needle: &str, since: chrono::DateTime<chrono::Utc>) -> Vec<f64> {
    strip_ansi(log)
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            let t = chrono::DateTime::parse_from_rfc3339(l.split_whitespace().next()?).ok()?;
            Some((t.with_timezone(&chrono::Utc) - since).num_milliseconds() as f64 / 1000.0)
        })
        .collect()
}
