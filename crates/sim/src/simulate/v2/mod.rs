//! The X API v2 family: the filtered stream and its rules API, the sample, sample10 and
//! firehose streams, under any path prefix (documented in `docs/simulator.md`).
//!
//! # Layout
//! - `endpoint`: which endpoint a path names, its partitions, and each stream's share of the
//!   global Post sequence (`crate::generate::posts`).
//! - `matcher`: the rule language; `rules`: the rules API; `problems`: the error bodies.
//! - `state`: rules, streams, who is connected, and the backfill rings (in the registry).
//! - `run`: one stream request's runner.
//! - `compliance`: the tweets and users compliance streams.

pub(crate) mod compliance;
pub(crate) mod endpoint;
pub(crate) mod matcher;
pub(crate) mod problems;
pub(crate) mod rules;
mod run;
pub(crate) mod state;
mod steps;

use super::backpressure::{Bound, Notices};
use super::body::BodySettings;
use super::handler::{self, Connection, ResponseBody};
use super::request::RequestInfo;
use super::scenario::{Scenario, Step};
use endpoint::Kind;
pub(crate) use endpoint::Route;
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use run::V2Run;
use std::time::Duration;
use tokio::time::Instant;

/// How long a second connection waits for the first to be seen gone before it gets a 429:
/// a client that reconnects at once after dropping its connection is not refused for the
/// moment the server takes to notice.
const BUSY_GRACE: Duration = Duration::from_millis(500);

/// Answers a rules request (never scripted), recording it in the stats.
pub(crate) fn rules_request(
    conn: &Connection,
    info: &RequestInfo,
    prefix: &str,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let (status, body) = shared.registry.v2(|state| {
        rules::handle(
            state,
            prefix,
            &info.method,
            &info.params,
            info.form_body.as_deref(),
            shared.seed,
        )
    });
    answer(conn, info, "rules", 0, status, body, None)
}

/// A whole answer to a v2 request, recorded in the stats.
fn answer(
    conn: &Connection,
    info: &RequestInfo,
    scenario: &str,
    key_index: u64,
    status: u16,
    body: Vec<u8>,
    v2_stream: Option<usize>,
) -> Response<ResponseBody> {
    let mut entry = handler::entry(info, scenario, key_index, status, false);
    entry.v2_stream = v2_stream.map(|s| s as u64);
    handler::finished(&conn.shared.registry, entry, body.len(), None);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    handler::whole(status, "application/json", body, None)
}

/// A 404 for a `/2/tweets/` path the simulator does not serve.
pub(crate) fn unknown(conn: &Connection, info: &RequestInfo) -> Response<ResponseBody> {
    let body = problems::not_found(&info.path);
    answer(conn, info, "", 0, 404, body, None)
}

/// Serves a stream request: checks its parameters, answers a scripted 429 or HTTP error, a
/// 429 TooManyConnections while another connection streams the same stream and partition, or
/// starts the runner.
pub(crate) async fn stream(
    conn: &Connection,
    scenario: &Scenario,
    info: &RequestInfo,
    prefix: &str,
    kind: Kind,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let partition = match kind.partition(&info.params) {
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
    let position_key = match partition {
        Some(p) => format!("{}?partition={p}", info.path),
        None => info.path.clone(),
    };
    let key_index = handler::next_position(shared, &position_key, &scenario.name);
    let steps = scenario
        .script(key_index)
        .map(|s| s.steps.clone())
        .unwrap_or_default();
    if let Some(foreign) = steps.iter().find(|s| !s.fits_v2()) {
        let reason = format!(
            "scenario `{}`, connection {}: a `{}` step has no meaning on a v2 stream",
            scenario.name,
            key_index + 1,
            foreign.kind()
        );
        let mut entry = handler::entry(info, &scenario.name, key_index, 500, false);
        let body = handler::error_json(StatusCode::INTERNAL_SERVER_ERROR, &reason);
        entry.http_status = 500;
        handler::finished(&shared.registry, entry, body.len(), Some(reason));
        return handler::whole(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            body.into_bytes(),
            None,
        );
    }
    match steps.first() {
        Some(Step::Http { .. }) => {
            return handler::scripted_http(conn, info, scenario, key_index, &steps[0]);
        }
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
            return response;
        }
        _ => {}
    }
    let Some(stream) = claim(conn, prefix, kind, partition).await else {
        let index = shared.registry.v2(|s| {
            s.streams
                .iter()
                .position(|st| st.prefix == prefix && st.kind == kind && st.partition == partition)
        });
        let body = problems::too_many_connections();
        return answer(conn, info, &scenario.name, key_index, 429, body, index);
    };
    start(
        conn,
        scenario,
        info,
        key_index,
        steps,
        V2Start {
            stream,
            kind,
            prefix,
            backfill,
        },
    )
}

/// The `backfill_minutes` asked for (`None`: none, or 0), or the 400 refusing it.
fn backfill_minutes(scenario: &Scenario, info: &RequestInfo) -> Result<Option<u32>, Vec<u8>> {
    let Some(value) = info.params.get("backfill_minutes") else {
        return Ok(None);
    };
    let minutes = match value.parse::<u32>() {
        Ok(m) if m <= state::MAX_BACKFILL_MINUTES => m,
        _ => {
            let message = format!(
                "The `backfill_minutes` query parameter value [{value}] is not between 0 and 5"
            );
            return Err(problems::invalid_request(
                "backfill_minutes",
                value,
                &message,
            ));
        }
    };
    if scenario.v2.backfill_refused {
        let message =
            "The `backfill_minutes` query parameter is not available for your access level";
        return Err(problems::invalid_request(
            "backfill_minutes",
            value,
            message,
        ));
    }
    Ok((minutes > 0).then_some(minutes))
}

/// Claims the stream, waiting up to [`BUSY_GRACE`] for a connection that is going away.
async fn claim(
    conn: &Connection,
    prefix: &str,
    kind: Kind,
    partition: Option<u32>,
) -> Option<usize> {
    let registry = &conn.shared.registry;
    let deadline = Instant::now() + BUSY_GRACE;
    loop {
        let busy = registry.v2(|s| s.busy(prefix, kind, partition));
        if !busy || Instant::now() >= deadline {
            return registry.v2(|s| s.claim(prefix, kind, partition)).ok();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct V2Start<'a> {
    stream: usize,
    kind: Kind,
    prefix: &'a str,
    backfill: Option<u32>,
}

/// Opens the stats entry, ties the stream to it and starts the runner.
fn start(
    conn: &Connection,
    scenario: &Scenario,
    info: &RequestInfo,
    key_index: u64,
    steps: Vec<Step>,
    v2: V2Start<'_>,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let rate = scenario.rate.unwrap_or(shared.rate);
    let capacity = scenario.queue_bytes.unwrap_or(shared.queue_bytes);
    let bound = Bound::for_stream(capacity, rate, Notices::V2);
    let gzip = scenario.gzip && info.accepts_gzip;
    let mut entry = handler::entry(info, &scenario.name, key_index, 200, gzip);
    entry.queue_capacity_bytes = bound.as_ref().map_or(0, Bound::capacity);
    entry.v2_stream = Some(v2.stream as u64);
    let index = shared.registry.open(entry);
    shared.registry.v2(|s| s.attach(v2.stream, Some(index)));
    let settings = BodySettings {
        gzip,
        heartbeat: b"\r\n",
        bound,
    };
    let (writer, body) = handler::open_body(conn, index, settings);
    let minute = Duration::from_secs_f64(scenario.v2.minute_secs);
    let now = Instant::now();
    let run = V2Run {
        stream: v2.stream,
        kind: v2.kind,
        prefix: v2.prefix.to_string(),
        seed: shared.seed,
        rate,
        keepalive: scenario
            .keepalive_secs
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(shared.keepalive)
            .max(Duration::from_millis(1)),
        keep: minute * state::MAX_BACKFILL_MINUTES,
        backfill_since: v2
            .backfill
            .map(|m| now.checked_sub(minute * m).unwrap_or(now)),
    };
    let registry = shared.registry.clone();
    let task = conn.tasks.clone();
    tokio::spawn(async move {
        run::run(run, steps, writer, registry, index).await;
        drop(task);
    });
    handler::streaming(body, "application/json", gzip)
}
