//! Answers one HTTP request: `/stats`, a subscription update, a scripted HTTP error, or a stream
//! of either family run by a script.

use super::backpressure::{Bound, Notices};
use super::body::{self, BodySettings, BodyWriter, ResetHandle};
use super::family::Family;
use super::frames;
use super::queue::ChannelBody;
use super::registry::Registry;
use super::request::RequestInfo;
use super::scenario::{LiveFormat, Scenario, Step};
use super::script::{self, Settings};
use super::session::{self, LiveRun};
use super::stats::ConnectionStats;
use super::topic;
use super::traffic::{Engagement, Traffic};
use super::update;
use super::v2::{self, Route};
use crate::generate::StreamGenerator;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Every response body: a whole one, or a stream.
pub(crate) type ResponseBody = BoxBody<Bytes, io::Error>;

/// What every request of the simulator shares.
pub(crate) struct Shared {
    /// The scenario of requests without `?scenario=`.
    pub default: Arc<Scenario>,
    /// Events per second unless the scenario says otherwise.
    pub rate: f64,
    /// Keep-alive interval unless the scenario says otherwise.
    pub keepalive: Duration,
    /// The queue bound of paced streams unless the scenario says otherwise; 0: none.
    pub queue_bytes: u64,
    /// One generator for all connections, so that ids never repeat.
    pub generator: Arc<Mutex<StreamGenerator>>,
    pub registry: Arc<Registry>,
    /// Requests seen so far per (path, scenario name): the next script to run.
    pub positions: Mutex<HashMap<(String, String), u64>>,
    /// The simulator's seed, from which each topics session seeds its own events.
    pub seed: u64,
    /// Every tweet's engagement counts, shared so that they only grow across sessions.
    pub engagement: Arc<Engagement>,
    /// The compliance jobs API's jobs and behaviour, and this simulator's own URL (for the
    /// loopback upload and download URLs).
    pub jobs: Arc<super::jobs::JobsState>,
    pub jobs_settings: Arc<super::jobs::JobsSettings>,
    pub base: String,
}

/// What the requests of one TCP connection share.
pub(crate) struct Connection {
    pub shared: Arc<Shared>,
    /// For scripted resets of this connection.
    pub reset: ResetHandle,
    pub shutdown: watch::Receiver<bool>,
    /// Held by every task the simulator waits for when it stops.
    pub tasks: mpsc::Sender<()>,
}

/// Routes one request.
pub(crate) async fn handle(
    request: Request<Incoming>,
    conn: Arc<Connection>,
) -> Result<Response<ResponseBody>, Infallible> {
    let shared = &conn.shared;
    if request.uri().path() == "/stats" {
        let stats = shared.registry.snapshot();
        let json = serde_json::to_vec(&stats).unwrap_or_default();
        return Ok(whole(StatusCode::OK, "application/json", json, None));
    }
    if super::jobs::is_jobs_path(request.uri().path()) {
        let (jobs, settings) = (&shared.jobs, &shared.jobs_settings);
        return Ok(super::jobs::handle(request, jobs, settings, &shared.base).await);
    }
    if request.uri().path().ends_with("/update_subscriptions") {
        return Ok(update::handle(request, &shared.registry).await);
    }
    let info = match RequestInfo::read(request).await {
        Ok(info) => info,
        Err(reason) => return Ok(error(StatusCode::BAD_REQUEST, &reason)),
    };
    let route = Route::of(&info.path);
    match &route {
        Some(Route::Rules { prefix }) => return Ok(v2::rules_request(&conn, &info, prefix)),
        Some(Route::Unknown) => return Ok(v2::unknown(&conn, &info)),
        _ => {}
    }
    let requested = info.params.get("scenario").cloned();
    let scenario = match requested.as_deref() {
        None => Some(shared.default.clone()),
        Some(name) if name == shared.default.name => Some(shared.default.clone()),
        Some(name) => Scenario::builtin(name).map(Arc::new),
    };
    let Some(scenario) = scenario else {
        let name = requested.unwrap_or_default();
        let reason = format!(
            "unknown scenario `{name}`: use `{}` or a built-in ({})",
            shared.default.name,
            Scenario::builtin_names().join(", ")
        );
        let status = StatusCode::NOT_FOUND;
        let body = error_json(status, &reason);
        finished(
            &shared.registry,
            entry(&info, &name, 0, status.as_u16(), false),
            body.len(),
            None,
        );
        return Ok(whole(status, "application/json", body.into_bytes(), None));
    };
    if let Some(Route::Compliance { prefix, stream }) = &route {
        return Ok(v2::compliance::stream(&conn, &scenario, &info, prefix, *stream).await);
    }
    if let Some(Route::Stream { prefix, kind }) = route {
        return Ok(v2::stream(&conn, &scenario, &info, &prefix, kind).await);
    }
    let key_index = next_position(shared, &info.path, &scenario.name);
    let steps = scenario
        .script(key_index)
        .map(|script| script.steps.clone())
        .unwrap_or_default();
    let family = Family::of(&info.path);
    if let Some(foreign) = steps.iter().find(|step| !family.fits(step)) {
        let reason = format!(
            "scenario `{}`, connection {}: a `{}` step has no meaning on a {} stream",
            scenario.name,
            key_index + 1,
            foreign.kind(),
            family.name()
        );
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        let body = error_json(status, &reason);
        let entry = entry(&info, &scenario.name, key_index, status.as_u16(), false);
        finished(&shared.registry, entry, body.len(), Some(reason));
        return Ok(whole(status, "application/json", body.into_bytes(), None));
    }
    if let Some(step @ Step::Http { .. }) = steps.first() {
        return Ok(scripted_http(&conn, &info, &scenario, key_index, step));
    }
    Ok(match family {
        Family::Topics => live_stream(&conn, &scenario, steps, &info, key_index),
        Family::Ndjson | Family::V2 => stream(&conn, &scenario, steps, &info, key_index),
    })
}

/// The answer of a scripted `http` step, recorded in the stats.
pub(super) fn scripted_http(
    conn: &Connection,
    info: &RequestInfo,
    scenario: &Scenario,
    key_index: u64,
    step: &Step,
) -> Response<ResponseBody> {
    let Step::Http {
        status,
        retry_after,
        body,
    } = step
    else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "not an http step");
    };
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = body
        .clone()
        .unwrap_or_else(|| error_json(status, "scripted error"));
    let entry = entry(info, &scenario.name, key_index, status.as_u16(), false);
    finished(&conn.shared.registry, entry, text.len(), None);
    let kind = if text.starts_with('{') {
        "application/json"
    } else {
        "text/plain"
    };
    whole(status, kind, text.into_bytes(), *retry_after)
}

/// Starts the script's runner and answers with the body it feeds.
fn stream(
    conn: &Connection,
    scenario: &Scenario,
    steps: Vec<Step>,
    info: &RequestInfo,
    key_index: u64,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let gzip = scenario.gzip && info.accepts_gzip;
    let rate = scenario.rate.unwrap_or(shared.rate);
    let stream_name = format!("simulator{}", info.path);
    let capacity = scenario.queue_bytes.unwrap_or(shared.queue_bytes);
    let bound = Bound::for_stream(capacity, rate, Notices::V1(stream_name.clone()));
    let mut entry = entry(info, &scenario.name, key_index, 200, gzip);
    entry.queue_capacity_bytes = bound.as_ref().map_or(0, Bound::capacity);
    let index = shared.registry.open(entry);
    let heartbeat = b"\r\n";
    let settings = BodySettings {
        gzip,
        heartbeat,
        bound,
    };
    let (writer, body) = open_body(conn, index, settings);
    let settings = Settings {
        generator: shared.generator.clone(),
        rate,
        keepalive: scenario
            .keepalive_secs
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(shared.keepalive)
            .max(Duration::from_millis(1)),
        stream_name,
    };
    let registry = shared.registry.clone();
    let task = conn.tasks.clone();
    tokio::spawn(async move {
        script::run(steps, settings, writer, registry, index).await;
        drop(task);
    });
    streaming(body, "application/json", gzip)
}

/// Opens a topics session on the requested topics, starts its runner and answers with the body
/// it feeds.
fn live_stream(
    conn: &Connection,
    scenario: &Scenario,
    steps: Vec<Step>,
    info: &RequestInfo,
    key_index: u64,
) -> Response<ResponseBody> {
    let shared = &conn.shared;
    let live = scenario.live;
    let gzip = scenario.gzip && info.accepts_gzip;
    let mut topics = Vec::new();
    for name in ["topics", "topic"] {
        for t in info
            .params
            .get(name)
            .map(|l| topic::split_list(l))
            .unwrap_or_default()
        {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
    }
    let rate = scenario.rate.unwrap_or(shared.rate);
    let capacity = scenario.queue_bytes.unwrap_or(shared.queue_bytes);
    let bound = Bound::for_stream(capacity, rate, Notices::None);
    let mut entry = entry(info, &scenario.name, key_index, 200, gzip);
    entry.queue_capacity_bytes = bound.as_ref().map_or(0, Bound::capacity);
    let opened = shared.registry.open_session(entry, &topics, &live);
    let heartbeat = frames::heartbeat(live.format);
    let settings = BodySettings {
        gzip,
        heartbeat,
        bound,
    };
    let (writer, body) = open_body(conn, opened.index, settings);
    let run = LiveRun {
        session_id: opened.session_id,
        open_errors: opened.errors,
        format: live.format,
        ttl_millis: live.ttl_millis,
        heartbeat: Duration::from_millis(live.heartbeat_millis),
        rate,
        traffic: Traffic::new(shared.seed, opened.index as u64, shared.engagement.clone()),
    };
    let registry = shared.registry.clone();
    let task = conn.tasks.clone();
    tokio::spawn(async move {
        session::run(run, steps, writer, registry, opened.index).await;
        drop(task);
    });
    streaming(body, frames::content_type(live.format), gzip)
}

/// The body of request `index` and the writer that feeds it.
pub(super) fn open_body(
    conn: &Connection,
    index: usize,
    settings: BodySettings,
) -> (BodyWriter, ChannelBody) {
    let (shutdown, reset) = (conn.shutdown.clone(), conn.reset.clone());
    let registry = conn.shared.registry.clone();
    body::channel(registry, index, settings, shutdown, reset)
}

/// The head of a streamed response around `body`.
pub(super) fn streaming(
    body: ChannelBody,
    content_type: &str,
    gzip: bool,
) -> Response<ResponseBody> {
    let mut response = Response::builder()
        .header(CONTENT_TYPE, content_type)
        // A stream ends its connection, as a real one does: the client reconnects afresh.
        .header(CONNECTION, "close");
    if content_type == frames::content_type(LiveFormat::Sse) {
        // What event-stream servers say, so that no proxy buffers the stream.
        response = response.header(CACHE_CONTROL, "no-cache");
    }
    if gzip {
        response = response.header(CONTENT_ENCODING, "gzip");
    }
    response
        .body(body.boxed())
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "bad response"))
}

/// The stats entry of a request, before anything was sent.
pub(super) fn entry(
    info: &RequestInfo,
    scenario: &str,
    key_index: u64,
    http_status: u16,
    gzip: bool,
) -> ConnectionStats {
    ConnectionStats {
        key_index,
        path: info.path.clone(),
        scenario: scenario.to_string(),
        family: Family::of(&info.path).name().to_string(),
        method: info.method.clone(),
        query: info.query.clone(),
        form_body: info.form_body.clone(),
        params: info.params.clone(),
        had_authorization: info.had_authorization,
        user_agent: info.user_agent.clone(),
        gzip,
        http_status,
        ..ConnectionStats::default()
    }
}

/// Records a request answered with a whole body of `bytes` bytes; `error` when the scenario
/// itself was at fault.
pub(super) fn finished(
    registry: &Registry,
    entry: ConnectionStats,
    bytes: usize,
    error: Option<String>,
) {
    let index = registry.open(entry);
    registry.record(index, &Default::default(), bytes as u64);
    let ended = if error.is_some() {
        "error"
    } else {
        "http_status"
    };
    registry.end(index, ended, error);
}

/// The script position of this request on its (path, scenario) key, counting it.
pub(super) fn next_position(shared: &Shared, path: &str, scenario: &str) -> u64 {
    let mut positions = shared
        .positions
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let next = positions
        .entry((path.to_string(), scenario.to_string()))
        .or_insert(0);
    *next += 1;
    *next - 1
}

pub(super) fn error_json(status: StatusCode, message: &str) -> String {
    serde_json::json!({"errors": [{"code": status.as_u16(), "message": message}]}).to_string()
}

/// A whole JSON error answer.
pub(crate) fn error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let body = error_json(status, message).into_bytes();
    whole(status, "application/json", body, None)
}

/// A whole (not streamed) answer.
pub(crate) fn whole(
    status: StatusCode,
    content_type: &str,
    body: Vec<u8>,
    retry_after: Option<u64>,
) -> Response<ResponseBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert(CONTENT_TYPE, value);
    }
    if let Some(secs) = retry_after {
        headers.insert(RETRY_AFTER, secs.into());
    }
    response
}
