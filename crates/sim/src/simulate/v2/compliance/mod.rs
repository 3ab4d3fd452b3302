//! The X API v2 compliance streams, `{prefix}/2/tweets/compliance/stream` and
//! `{prefix}/2/users/compliance/stream` (documented in `docs/simulator.md`).
//!
//! Each is split into 4 partitions (`partition` required, 1..=4), one connection each, and
//! only the four together see every event. Events are drawn from the Posts the simulator
//! delivered on its v2 Post streams under the same prefix, so that a test knows exactly what
//! must change in an archive: the stats' `v2_compliance_truth` is the state that every
//! delivered event puts its targets in. Requests are scripted like the Post streams (the same
//! steps, 429s, operational disconnects, backfill of what a partition published, keep-alives).
//!
//! # Layout
//! - `settings`: the event kinds and the scenario's `[compliance]` table.
//! - `event`: one event and its line; `pick`: which event comes next on a partition, drawn
//!   from the `pool` of delivered Posts.
//! - `state`: partitions, pools and rings (in the registry); `truth`: the ground truth.
//! - `stats`: their stats' form; `run`: one request's runner.

pub(crate) mod event;
pub(crate) mod pick;
pub(crate) mod pool;
mod run;
pub(crate) mod settings;
pub(crate) mod state;
pub(crate) mod stats;
mod truth;

use super::problems;
use super::{BUSY_GRACE, answer, backfill_minutes};
use crate::simulate::backpressure::{Bound, Notices};
use crate::simulate::body::BodySettings;
use crate::simulate::handler::{self, Connection, ResponseBody};
use crate::simulate::request::RequestInfo;
use crate::simulate::scenario::{Scenario, Step};
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use run::ComplianceRun;
use std::time::Duration;
use tokio::time::Instant;

/// Partitions of each compliance stream.
pub const PARTITIONS: u32 = 4;

/// The two compliance streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `/2/tweets/compliance/stream`: Post events.
    Tweets,
    /// `/2/users/compliance/stream`: user events.
    Users,
}

impl Stream {
    /// The stats' name.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Tweets => "tweets",
            Stream::Users => "users",
        }
    }
}

/// The prefix and stream of a compliance stream path, if it is one.
pub fn route(path: &str) -> Option<(String, Stream)> {
    let path = path.trim_end_matches('/');
    [
        ("/2/tweets/compliance/stream", Stream::Tweets),
        ("/2/users/compliance/stream", Stream::Users),
    ]
    .into_iter()
    .find_map(|(suffix, stream)| {
        path.strip_suffix(suffix)
            .map(|prefix| (prefix.to_string(), stream))
    })
}

/// The `partition` of a request: `Err` is the message of the 400.
fn partition(info: &RequestInfo) -> Result<u32, String> {
    match info.params.get("partition") {
        None => Err(format!(
            "The `partition` query parameter can not be empty: give 1..={PARTITIONS}"
        )),
        Some(p) => match p.parse::<u32>() {
            Ok(p) if (1..=PARTITIONS).contains(&p) => Ok(p),
            _ => Err(format!(
                "The `partition` query parameter value [{p}] is not between 1 and {PARTITIONS}"
            )),
        },
    }
}

/// Serves a compliance stream request: checks its parameters, answers a scripted HTTP error
/// or 429, a 429 TooManyConnections while another connection streams the same partition, or
/// starts the runner.
pub(crate) async fn stream(
    conn: &Connection,
    scenario: &Scenario,
    info: &RequestInfo,
    prefix: &str,
    stream: Stream,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let partition = match partition(info) {
        Ok(p) => p,
        Err(message) => {
            let value = info.params.get("partition").cloned().unwrap_or_default();
            let body = problems::invalid_request("partition", &value, &message);
            return answer(conn, info, &scenario.name, 0, 400, body, None);
        }
    };
    let backfill = match backfill_minutes(scenario, info) {
        Ok(b) => b,
        Err(body) => return answer(conn, info, &scenario.name, 0, 400, body, None),
    };
    let position_key = format!("{}?partition={partition}", info.path);
    let key_index = handler::next_position(shared, &position_key, &scenario.name);
    let steps = scenario
        .script(key_index)
        .map(|s| s.steps.clone())
        .unwrap_or_default();
    if let Some(response) = scripted(conn, scenario, info, key_index, &steps) {
        return response;
    }
    let Ok(log) = claim(conn, prefix, stream, partition).await else {
        let body = problems::too_many_connections();
        return answer(conn, info, &scenario.name, key_index, 429, body, None);
    };
    start(conn, scenario, info, key_index, steps, (log, backfill))
}

/// The answer instead of a stream: a step foreign to v2 (500), a scripted HTTP status, or a
/// usage cap (429).
fn scripted(
    conn: &Connection,
    scenario: &Scenario,
    info: &RequestInfo,
    key_index: u64,
    steps: &[Step],
) -> Option<Response<ResponseBody>> {
    if let Some(foreign) = steps.iter().find(|s| !s.fits_v2()) {
        let reason = format!(
            "scenario `{}`, connection {}: a `{}` step has no meaning on a v2 stream",
            scenario.name,
            key_index + 1,
            foreign.kind()
        );
        let entry = handler::entry(info, &scenario.name, key_index, 500, false);
        let body = handler::error_json(StatusCode::INTERNAL_SERVER_ERROR, &reason);
        handler::finished(&conn.shared.registry, entry, body.len(), Some(reason));
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        return Some(handler::whole(
            status,
            "application/json",
            body.into_bytes(),
            None,
        ));
    }
    match steps.first() {
        Some(step @ Step::Http { .. }) => Some(handler::scripted_http(
            conn, info, scenario, key_index, step,
        )),
        Some(Step::UsageCapped {
            period,
            scope,
            reset_secs,
        }) => {
            let body = problems::usage_capped(period, scope);
            let mut response = answer(conn, info, &scenario.name, key_index, 429, body, None);
            if let Some(secs) = reset_secs {
                let reset = chrono::Utc::now().timestamp() + i64::try_from(*secs).unwrap_or(0);
                if let Ok(value) = HeaderValue::from_str(&reset.to_string()) {
                    response.headers_mut().insert("x-rate-limit-reset", value);
                }
            }
            Some(response)
        }
        _ => None,
    }
}

/// Claims the partition, waiting up to `BUSY_GRACE` for a connection that is going away.
async fn claim(
    conn: &Connection,
    prefix: &str,
    stream: Stream,
    partition: u32,
) -> Result<usize, usize> {
    let registry = &conn.shared.registry;
    let deadline = Instant::now() + BUSY_GRACE;
    loop {
        let busy = registry.compliance(|c| c.busy(prefix, stream, partition));
        if !busy || Instant::now() >= deadline {
            return registry.compliance(|c| c.claim(prefix, stream, partition));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Opens the stats entry, ties the partition to it and starts the runner.
fn start(
    conn: &Connection,
    scenario: &Scenario,
    info: &RequestInfo,
    key_index: u64,
    steps: Vec<Step>,
    (log, backfill): (usize, Option<u32>),
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let settings = scenario.v2.compliance;
    let rate = settings.rate.or(scenario.rate).unwrap_or(shared.rate);
    let capacity = scenario.queue_bytes.unwrap_or(shared.queue_bytes);
    let bound = Bound::for_stream(capacity, rate, Notices::V2);
    let gzip = scenario.gzip && info.accepts_gzip;
    let mut entry = handler::entry(info, &scenario.name, key_index, 200, gzip);
    entry.queue_capacity_bytes = bound.as_ref().map_or(0, Bound::capacity);
    let index = shared.registry.open(entry);
    shared.registry.compliance(|c| c.attach(log, index));
    let body_settings = BodySettings {
        gzip,
        heartbeat: b"\r\n",
        bound,
    };
    let (writer, body) = handler::open_body(conn, index, body_settings);
    let minute = Duration::from_secs_f64(scenario.v2.minute_secs);
    let now = Instant::now();
    let run = ComplianceRun {
        log,
        seed: shared.seed,
        rate,
        keepalive: scenario
            .keepalive_secs
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(shared.keepalive)
            .max(Duration::from_millis(1)),
        keep: minute * super::state::MAX_BACKFILL_MINUTES,
        backfill_since: backfill.map(|m| now.checked_sub(minute * m).unwrap_or(now)),
        settings,
    };
    let registry = shared.registry.clone();
    let task = conn.tasks.clone();
    tokio::spawn(async move {
        run::run(run, steps, writer, registry, index).await;
        drop(task);
    });
    handler::streaming(body, "application/json", gzip)
}
