//! Answers one HTTP request: `/stats`, a scripted HTTP error, or a stream run by a script.

use super::body::{self, ResetHandle};
use super::request::RequestInfo;
use super::scenario::{Scenario, Step};
use super::script::{self, Settings};
use super::stats::{ConnectionStats, Registry};
use crate::generate::StreamGenerator;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
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
    /// One generator for all connections, so that ids never repeat.
    pub generator: Arc<Mutex<StreamGenerator>>,
    pub registry: Arc<Registry>,
    /// Requests seen so far per (path, scenario name): the next script to run.
    pub positions: Mutex<HashMap<(String, String), u64>>,
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
    let info = match RequestInfo::read(request).await {
        Ok(info) => info,
        Err(reason) => return Ok(error(StatusCode::BAD_REQUEST, &reason)),
    };
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
        );
        return Ok(whole(status, "application/json", body.into_bytes(), None));
    };
    let key_index = next_position(shared, &info.path, &scenario.name);
    let steps = scenario
        .script(key_index)
        .map(|script| script.steps.clone())
        .unwrap_or_default();
    if let Some(Step::Http {
        status,
        retry_after,
        body,
    }) = steps.first()
    {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let text = body
            .clone()
            .unwrap_or_else(|| error_json(status, "scripted error"));
        let entry = entry(&info, &scenario.name, key_index, status.as_u16(), false);
        finished(&shared.registry, entry, text.len());
        let kind = if text.starts_with('{') {
            "application/json"
        } else {
            "text/plain"
        };
        return Ok(whole(status, kind, text.into_bytes(), *retry_after));
    }
    Ok(stream(&conn, &scenario, steps, &info, key_index))
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
    let entry = entry(info, &scenario.name, key_index, 200, gzip);
    let index = shared.registry.open(entry);
    let (writer, body) = body::channel(
        shared.registry.clone(),
        index,
        gzip,
        conn.shutdown.clone(),
        conn.reset.clone(),
    );
    let settings = Settings {
        generator: shared.generator.clone(),
        rate: scenario.rate.unwrap_or(shared.rate),
        keepalive: scenario
            .keepalive_secs
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(shared.keepalive)
            .max(Duration::from_millis(1)),
        stream_name: format!("simulator{}", info.path),
    };
    let registry = shared.registry.clone();
    let task = conn.tasks.clone();
    tokio::spawn(async move {
        script::run(steps, settings, writer, registry, index).await;
        drop(task);
    });
    let mut response = Response::builder()
        .header(CONTENT_TYPE, "application/json")
        // A stream ends its connection, as a real one does: the client reconnects afresh.
        .header(CONNECTION, "close");
    if gzip {
        response = response.header(CONTENT_ENCODING, "gzip");
    }
    response
        .body(body.boxed())
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "bad response"))
}

/// The stats entry of a request, before anything was sent.
fn entry(
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
        method: info.method.clone(),
        query: info.query.clone(),
        form_body: info.form_body.clone(),
        params: info.params.clone(),
        had_authorization: info.had_authorization,
        gzip,
        http_status,
        ..ConnectionStats::default()
    }
}

/// Records a request answered with a whole body of `bytes` bytes.
fn finished(registry: &Registry, entry: ConnectionStats, bytes: usize) {
    let index = registry.open(entry);
    registry.record(index, &Default::default(), bytes as u64);
    registry.end(index, "http_status", None);
}

/// The script position of this request on its (path, scenario) key, counting it.
fn next_position(shared: &Shared, path: &str, scenario: &str) -> u64 {
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

fn error_json(status: StatusCode, message: &str) -> String {
    serde_json::json!({"errors": [{"code": status.as_u16(), "message": message}]}).to_string()
}

fn error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let body = error_json(status, message).into_bytes();
    whole(status, "application/json", body, None)
}

fn whole(
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
