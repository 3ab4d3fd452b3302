//! Scenarios: what each successive connection to the simulator receives, read from TOML or JSON.
//!
//! A scenario is a list of connection scripts. The Nth request on one (path, scenario) pair runs
//! the Nth script; once the list is exhausted the last script repeats forever, so a script list
//! reads like the story of a stream: "first a 503, then a disconnect, then data for good".
//!
//! # Format
//!
//! ```toml
//! name = "flaky"                 # defaults to the file's stem
//! description = "what it shows"  # optional
//! rate = 200.0                   # events per second per connection; overrides --rate; 0 = unpaced
//! keepalive_secs = 0.2           # silence before a blank keep-alive line; overrides the default 30
//! gzip = true                    # gzip the body when the client sends accept-encoding: gzip
//! queue_bytes = 65536            # bound of a slow client's queue; overrides --queue-bytes; 0 = none
//! format = "sse"                 # topics family: "sse" (default), "sse-cr" (CR-only) or "lines"
//! ttl_millis = 60000             # topics family: subscription_ttl_millis of every session
//! heartbeat_millis = 1000        # topics family: heartbeat_millis, the heartbeat interval
//! backfill_minute_secs = 0.5     # v2 family: the length of a backfill "minute" (default 60)
//! backfill = "refused"           # v2 family: "allowed" (default) or "refused" (400)
//!
//! [compliance]                   # v2 compliance streams (see `docs/simulator.md`)
//! rate = 20.0                    # events per second per partition; overrides `rate`
//! revisit_percent = 50           # how often a state put on again is one undone before
//! mix = { delete = 10, drop = 4, undrop = 2, user_suspend = 3, user_unsuspend = 2 }
//!
//! [jobs]                         # the batch compliance jobs API (see `docs/simulator.md`)
//! outcomes = ["failed", "complete"]  # each successive job's end; the last repeats
//! in_progress_secs = 2.0         # how long a job is `in_progress` after its upload
//! rate_limited_polls = 1         # the first N polls of each job answer 429
//! foreign_job_secs = 5.0         # another client's job holds each type (creates get 409)
//! delete_every = 10              # ids divisible by it are `delete`/`deleted`
//! verdicts = [{ id = 5, action = "delete", reason = "suspended" }]
//! extra_lines = ["not json"]     # appended to every job's results as they are
//!
//! [[connection]]                 # the first request
//! steps = [{ http = 503, retry_after = 5, body = "over capacity" }]
//!
//! [[connection]]                 # the second request, and every later one (the last repeats)
//! steps = [
//!   { send = 100 },
//!   { disconnect = 12, reason = "shed load" },
//! ]
//! ```
//!
//! Every step is a table with exactly one kind key, plus that kind's optional companions:
//!
//! | step | what the connection does |
//! | --- | --- |
//! | `{ send = N }` / `{ send = "forever" }` | N generated events at the rate (keep-alive lines the generator mixes in are extra) |
//! | `{ file = "path.jsonl" }` | the lines of a file (`.gz` is decompressed; relative to the scenario file), paced at the rate |
//! | `{ disconnect = CODE, reason = "..", stream_name = ".." }` | a `disconnect` message, then a clean end of the body |
//! | `{ http = STATUS, retry_after = SECS, body = ".." }` | that status instead of a stream; must be the only step |
//! | `{ reset = true }` | an abrupt TCP reset (RST, not FIN) |
//! | `{ reset_mid_line = true }` | the first half of a generated line, without terminator, then a reset |
//! | `{ stall = SECS }` / `"forever"` | silence: not even keep-alives (float seconds allowed) |
//! | `{ trickle = N, bytes_per_sec = B }` | N events written a few bytes at a time at B bytes/s |
//! | `{ oversize = BYTES }` | one valid JSON object of BYTES bytes |
//! | `{ malformed = N }` | N broken lines: truncated JSON, invalid UTF-8, a bare number, ... |
//! | `{ warning = "CODE", percent_full = P, message = "..", user_id = ID }` | a stall warning |
//! | `{ keepalive = N }` | N blank keep-alive lines |
//! | `{ idle = SECS }` / `"forever"` | keep-alive lines every `keepalive_secs`, nothing else |
//! | `{ close = true }` | a clean end of the body here, whatever steps follow |
//! | `{ live = N }` / `{ live = "forever" }` | topics family: N events on the session's live topics, at the rate |
//! | `{ unknown_payload = N }` | topics family: N frames whose payload key no client knows |
//! | `{ forget_session = true }` | topics family: the server forgets the session (updates get 404) |
//! | `{ subscriptions_event = true }` | topics family: a `/system/subscriptions` frame with no errors |
//! | `{ hostile = "case", count = N, bytes = B }` | ndjson: N times the lines of a hostile case (see `hostile`) |
//! | `{ raw = "text" }` | ndjson: that text as one line, as it is |
//! | `{ unterminated = BYTES }` | a line (topics: a `data:` line) of BYTES that never ends, then a clean end |
//! | `{ operational_disconnect = "TYPE", detail = ".." }` | v2: an `operational-disconnect` error line of that `disconnect_type`, then a clean end |
//! | `{ usage_capped = "Monthly", scope = "Product", reset_secs = S }` | v2: HTTP 429 `usage-capped` (`Daily` or `Monthly`; `x-rate-limit-reset` S seconds ahead when given); must be the only step |
//!
//! Which family a request gets is decided by its path (see [`super`]): `send` and `live` are the
//! same step, "each family's events"; `disconnect` and `warning` only make sense on an ndjson
//! stream, `file` on an ndjson or v2 one, and the last three steps above only on a topics
//! session. A request whose script
//! holds a step foreign to its family is answered HTTP 500, saying which step.
//!
//! A script that runs out of steps ends the body cleanly (chunked terminator, then the
//! connection closes). Unknown keys, a step with two kinds or none, a companion on the wrong kind
//! and out-of-range values are errors that name the connection, the step and the key.

mod step;

pub use step::{Amount, Period, Step};

use super::v2::compliance::settings::ComplianceSettings;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scripted stream: the default for the simulator, or one chosen by `?scenario=NAME`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "super::parse::ScenarioFile")]
pub struct Scenario {
    /// What `?scenario=` and the stats call it; script positions are tracked per name.
    pub name: String,
    /// One line for `--help`-style listings and the stats reader.
    pub description: String,
    /// Events per second per connection, overriding the simulator's rate; `Some(0.0)` = unpaced.
    pub rate: Option<f64>,
    /// Silence before a keep-alive line, overriding the simulator's interval.
    pub keepalive_secs: Option<f64>,
    /// Whether the body is gzip-encoded for clients that accept it.
    pub gzip: bool,
    /// The bound of each paced stream's queue for a slow client, overriding the simulator's;
    /// `Some(0)`: streams wait for their client (see "Slow readers" in [`super`]).
    pub queue_bytes: Option<u64>,
    /// The script of each successive request; the last one repeats.
    pub connections: Vec<ConnectionScript>,
    /// How topic-based live sessions are served (ignored by ndjson streams).
    pub live: LiveSettings,
    /// How the X API v2 streams keep and resend what they sent (ignored by the others).
    pub v2: V2Settings,
    /// How the batch compliance jobs API behaves (the `[jobs]` table); `None`: as
    /// [`super::SimulatorConfig::jobs`] says. Only the simulator's default scenario's counts:
    /// the jobs API is one per simulator, not per stream.
    pub jobs: Option<super::jobs::JobsSettings>,
}

/// The v2 family's scenario options: backfill's unit of time and whether it is allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct V2Settings {
    /// How long a "minute" of `backfill_minutes` lasts, in seconds: 60 for real time, less for
    /// tests (0.5 makes a one-minute gap a half-second one). Streams keep 5 such minutes.
    pub minute_secs: f64,
    /// Whether `backfill_minutes` is refused with a 400, as for access levels without it.
    pub backfill_refused: bool,
    /// The compliance streams' rate and mix of events (the `[compliance]` table).
    pub compliance: ComplianceSettings,
}

impl Default for V2Settings {
    /// Real minutes, backfill allowed.
    fn default() -> Self {
        V2Settings {
            minute_secs: 60.0,
            backfill_refused: false,
            compliance: ComplianceSettings::default(),
        }
    }
}

/// The session parameters of the topics family: what the config frame announces, and what the
/// simulator then holds itself to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveSettings {
    /// How frames are framed on the wire.
    pub format: LiveFormat,
    /// `subscription_ttl_millis`: a subscription not re-asserted for this long expires.
    pub ttl_millis: u64,
    /// `heartbeat_millis`: the longest silence before a heartbeat.
    pub heartbeat_millis: u64,
}

impl Default for LiveSettings {
    /// Server-Sent Events, a one-minute TTL, a heartbeat a second.
    fn default() -> Self {
        LiveSettings {
            format: LiveFormat::Sse,
            ttl_millis: 60_000,
            heartbeat_millis: 1_000,
        }
    }
}

/// The two framings a topics session is served in; clients must accept both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LiveFormat {
    /// `text/event-stream`: `data: <json>` then a blank line per frame, `:heartbeat` comments.
    #[default]
    Sse,
    /// `application/json`: one JSON object and CRLF per frame, blank CRLF lines as heartbeats.
    Lines,
    /// Server-Sent Events with CR-only line endings (valid SSE, rarely seen): `data: <json>\r\r`.
    SseCr,
}

/// The steps one request runs, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionScript {
    /// Run in order; when they end, the body ends cleanly.
    pub steps: Vec<Step>,
}

/// Why a scenario could not be loaded: says which scenario, where in it, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a built-in name nor a scenario file.
    #[error(
        "unknown scenario `{0}`: not a built-in ({builtins}) and not a .toml or .json file",
        builtins = Scenario::builtin_names().join(", ")
    )]
    Unknown(String),
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a valid scenario.
    #[error("scenario {origin}: {reason}")]
    Invalid {
        /// The file path, or `(inline)` for text given directly.
        origin: String,
        /// What is wrong, with the connection, step and key where it applies.
        reason: String,
    },
}

impl Scenario {
    /// A built-in scenario by name (see [`Scenario::builtin_names`]), so that demos and tests
    /// need no files.
    pub fn builtin(name: &str) -> Option<Scenario> {
        super::builtin::scenario(name)
    }

    /// Every built-in name, for `--help`, error messages and tests.
    pub fn builtin_names() -> &'static [&'static str] {
        super::builtin::NAMES
    }

    /// A built-in name, else a `.toml` or `.json` file; a file's scenario is named after the
    /// file's stem unless it says otherwise, and its `file` steps are resolved relative to it.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some(scenario) = Scenario::builtin(name_or_path) {
            return Ok(scenario);
        }
        let path = Path::new(name_or_path);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "toml" && ext != "json" {
            return Err(ScenarioError::Unknown(name_or_path.to_string()));
        }
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let mut scenario = if ext == "toml" {
            Scenario::from_toml_str(&text)
        } else {
            Scenario::from_json_str(&text)
        }
        .map_err(|e| e.with_origin(&origin))?;
        if scenario.name.is_empty() {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("scenario");
            scenario.name = stem.to_string();
        }
        let base = path.parent().unwrap_or(Path::new(""));
        scenario
            .resolve_files(base)
            .map_err(|reason| ScenarioError::Invalid { origin, reason })?;
        Ok(scenario)
    }

    /// A scenario from TOML text, for tests and callers that embed their own.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |reason: String| ScenarioError::Invalid {
            origin: "(inline)".into(),
            reason,
        };
        // Parsed by the TOML crate itself, not through `config`: `config` reads a key such as
        // `"a[99999999]"` as an array index and grows an array to it (found by the `scenario`
        // fuzz target: a 400 MB allocation from a 20-byte file). A scenario has no layers to merge.
        let value: Value = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }

    /// A scenario from JSON text with the same layout as the TOML form.
    pub fn from_json_str(text: &str) -> Result<Scenario, ScenarioError> {
        serde_json::from_str(text).map_err(|e| ScenarioError::Invalid {
            origin: "(inline)".into(),
            reason: e.to_string(),
        })
    }

    /// The script the request with this index on its (path, scenario) key runs: the last one
    /// repeats once the list is exhausted.
    pub fn script(&self, key_index: u64) -> Option<&ConnectionScript> {
        let i = usize::try_from(key_index).unwrap_or(usize::MAX);
        self.connections.get(i).or(self.connections.last())
    }

    /// Makes relative `file` paths relative to `base` and checks that every file exists, so
    /// that a typo fails at start-up rather than on the Nth reconnect.
    fn resolve_files(&mut self, base: &Path) -> Result<(), String> {
        for (c, conn) in self.connections.iter_mut().enumerate() {
            for (s, step) in conn.steps.iter_mut().enumerate() {
                if let Step::File(path) = step {
                    if path.is_relative() {
                        *path = base.join(&*path);
                    }
                    if !path.is_file() {
                        return Err(format!(
                            "connection {}, step {}: `file` {} does not exist or is not a file",
                            c + 1,
                            s + 1,
                            path.display()
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl ScenarioError {
    fn with_origin(self, origin: &str) -> ScenarioError {
        match self {
            ScenarioError::Invalid { reason, .. } => ScenarioError::Invalid {
                origin: origin.to_string(),
                reason,
            },
            other => other,
        }
    }
}
