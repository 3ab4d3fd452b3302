//! The X API v2 batch compliance jobs API, served from the simulator's own ground truth.
//!
//! - `POST /2/compliance/jobs` `{"type", "name", "resumable"}` creates a job (HTTP 200 with
//!   `{"data": job}`), or answers 409 while a job of that type is `created` or `in_progress`.
//! - `GET /2/compliance/jobs/{id}` and `GET /2/compliance/jobs?type=..[&status=..]`.
//! - `PUT /sim/compliance/upload/{id}` takes the ids (text, one per line) and
//!   `GET /sim/compliance/download/{id}` gives the results: these loopback URLs are "pre-signed",
//!   so a request carrying an `Authorization` header is refused (400). The API endpoints
//!   answer 401 without one.
//!
//! A job is `created` until its ids are uploaded, `in_progress` for
//! [`JobsSettings::in_progress_for`] after that, then `complete`; the outcomes of successive jobs
//! can be scripted `failed` or `expired` instead ([`JobsSettings::outcomes`]). The results name,
//! for each uploaded id in order, the verdict [`JobsSettings::verdict_of`] gives it, then the
//! scripted [`JobsSettings::extra_lines`] (hostile lines for tests).

use super::handler::{ResponseBody, error, whole};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::AUTHORIZATION;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Largest upload taken (10 million ids of 20 bytes fit easily).
const MAX_UPLOAD: usize = 256 << 20;

/// How the jobs API behaves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsSettings {
    /// Explicit verdicts: id → (action, reason).
    pub verdicts: BTreeMap<i64, (String, String)>,
    /// Every uploaded id divisible by this (when not 0 and not listed in `verdicts`) is
    /// `delete`/`deleted`.
    pub delete_every: u64,
    /// Lines appended to every job's results as they are (hostile input for tests).
    pub extra_lines: Vec<String>,
    /// The outcome of each successive job created: `complete`, `failed` or `expired`; the last
    /// repeats; empty: every job completes.
    pub outcomes: Vec<String>,
    /// How long a job stays `in_progress` after its upload (its `failed`/`expired` end comes
    /// as late, counted from its creation).
    pub in_progress_for: Duration,
    /// The first this many `GET /2/compliance/jobs/{id}` of each job answer 429 with an
    /// `x-rate-limit-reset` one second ahead.
    pub rate_limited_polls: u32,
    /// A job of another client, `in_progress` of both types from the start for this long.
    pub foreign_job_for: Option<Duration>,
}

impl JobsSettings {
    /// The verdict of an uploaded id: (action, reason), or `None` when it is compliant.
    pub fn verdict_of(&self, id: i64) -> Option<(String, String)> {
        if let Some(v) = self.verdicts.get(&id) {
            return Some(v.clone());
        }
        (self.delete_every > 0 && id > 0 && (id as u64) % self.delete_every == 0)
            .then(|| ("delete".into(), "deleted".into()))
    }
}

/// One job as the simulator keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct SimJob {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub job_type: String,
    pub outcome: String,
    pub ids_uploaded: usize,
    pub uploads: u32,
    pub downloads: u32,
    #[serde(skip)]
    created: Option<Instant>,
    #[serde(skip)]
    uploaded: Option<(Instant, Vec<i64>)>,
    #[serde(skip)]
    polls: u32,
    #[serde(skip)]
    foreign_until: Option<Instant>,
}

impl SimJob {
    /// The job's status now.
    pub fn status(&self, settings: &JobsSettings) -> &'static str {
        let now = Instant::now();
        if let Some(until) = self.foreign_until {
            return if now < until {
                "in_progress"
            } else {
                "complete"
            };
        }
        let created = self.created.unwrap_or(now);
        match self.outcome.as_str() {
            "failed" | "expired" if now >= created + settings.in_progress_for => {
                if self.outcome == "failed" {
                    "failed"
                } else {
                    "expired"
                }
            }
            "failed" | "expired" => "in_progress",
            _ => match &self.uploaded {
                None => "created",
                Some((at, _)) if now < *at + settings.in_progress_for => "in_progress",
                Some(_) => "complete",
            },
        }
    }
}

/// Every job the simulator was asked for.
#[derive(Debug, Default)]
pub struct JobsState {
    jobs: Mutex<Vec<SimJob>>,
    /// Jobs created through the API (the foreign job not counted).
    created: Mutex<u64>,
}

impl JobsState {
    /// The state at start: the foreign job, when scripted.
    pub fn new(settings: &JobsSettings) -> JobsState {
        let state = JobsState::default();
        if let Some(for_) = settings.foreign_job_for {
            let mut jobs = state.lock();
            for (n, t) in ["tweets", "users"].into_iter().enumerate() {
                jobs.push(SimJob {
                    id: format!("9{}", n + 1),
                    name: Some("another-client".into()),
                    job_type: t.into(),
                    outcome: "complete".into(),
                    ids_uploaded: 0,
                    uploads: 0,
                    downloads: 0,
                    created: Some(Instant::now()),
                    uploaded: None,
                    polls: 0,
                    foreign_until: Some(Instant::now() + for_),
                });
            }
        }
        state
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SimJob>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Jobs created through the API so far, and every job.
    pub fn snapshot(&self) -> (u64, Vec<SimJob>) {
        let created = *self.created.lock().unwrap_or_else(PoisonError::into_inner);
        (created, self.lock().clone())
    }
}

/// Whether a path belongs to the jobs API.
pub fn is_jobs_path(path: &str) -> bool {
    path.starts_with("/2/compliance/jobs") || path.starts_with("/sim/compliance/")
}

/// Answers one request of the jobs API.
pub async fn handle(
    request: Request<Incoming>,
    state: &JobsState,
    settings: &JobsSettings,
    base: &str,
) -> Response<ResponseBody> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let authorized = request.headers().contains_key(AUTHORIZATION);
    let method = request.method().clone();
    if let Some(id) = path.strip_prefix("/sim/compliance/") {
        if authorized {
            return error(
                StatusCode::BAD_REQUEST,
                "a pre-signed URL takes no Authorization header",
            );
        }
        let id = id.to_string();
        return match (method, id.split_once('/')) {
            (Method::PUT, Some(("upload", id))) => upload(request, state, id).await,
            (Method::GET, Some(("download", id))) => download(state, settings, id),
            _ => error(StatusCode::NOT_FOUND, "no such pre-signed URL"),
        };
    }
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    match (method, path.strip_prefix("/2/compliance/jobs")) {
        (Method::POST, Some("")) => {
            let body = Limited::new(request.into_body(), 1 << 16).collect().await;
            let body = body.map(|b| b.to_bytes()).unwrap_or_default();
            create(state, settings, &body, base)
        }
        (Method::GET, Some("")) => list(state, settings, &query, base),
        (Method::GET, Some(rest)) => get(state, settings, rest.trim_start_matches('/'), base),
        _ => error(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

fn create(
    state: &JobsState,
    settings: &JobsSettings,
    body: &[u8],
    base: &str,
) -> Response<ResponseBody> {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let Some(job_type) = request["type"]
        .as_str()
        .filter(|t| matches!(*t, "tweets" | "users"))
    else {
        return error(StatusCode::BAD_REQUEST, "type must be tweets or users");
    };
    let mut jobs = state.lock();
    let running = jobs
        .iter()
        .any(|j| j.job_type == job_type && matches!(j.status(settings), "created" | "in_progress"));
    if running {
        let body = serde_json::json!({"title": "Conflict", "detail":
            "You cannot create a new job if one is already in progress",
            "type": "https://api.twitter.com/2/problems/conflict"});
        return whole(
            StatusCode::CONFLICT,
            "application/json",
            body.to_string().into_bytes(),
            None,
        );
    }
    let mut created = state.created.lock().unwrap_or_else(PoisonError::into_inner);
    let n = *created as usize;
    *created += 1;
    let outcome = settings
        .outcomes
        .get(n)
        .or(settings.outcomes.last())
        .cloned()
        .unwrap_or_else(|| "complete".into());
    let job = SimJob {
        id: format!("{}", 1_446_017_776_678_801_409u64 + n as u64),
        name: request["name"]
            .as_str()
            .map(|s| s.chars().take(64).collect()),
        job_type: job_type.into(),
        outcome,
        ids_uploaded: 0,
        uploads: 0,
        downloads: 0,
        created: Some(Instant::now()),
        uploaded: None,
        polls: 0,
        foreign_until: None,
    };
    let body = serde_json::json!({"data": describe(&job, settings, base)});
    jobs.push(job);
    whole(
        StatusCode::OK,
        "application/json",
        body.to_string().into_bytes(),
        None,
    )
}

fn get(state: &JobsState, settings: &JobsSettings, id: &str, base: &str) -> Response<ResponseBody> {
    let mut jobs = state.lock();
    let Some(job) = jobs.iter_mut().find(|j| j.id == id) else {
        return error(StatusCode::NOT_FOUND, "no such job");
    };
    job.polls += 1;
    if job.polls <= settings.rate_limited_polls {
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        let reset = chrono::Utc::now().timestamp() + 1;
        if let Ok(v) = reset.to_string().parse() {
            r.headers_mut().insert("x-rate-limit-reset", v);
        }
        return r;
    }
    let body = serde_json::json!({"data": describe(job, settings, base)});
    whole(
        StatusCode::OK,
        "application/json",
        body.to_string().into_bytes(),
        None,
    )
}

fn list(
    state: &JobsState,
    settings: &JobsSettings,
    query: &str,
    base: &str,
) -> Response<ResponseBody> {
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let Some(job_type) = param("type") else {
        return error(StatusCode::BAD_REQUEST, "type is required");
    };
    let status = param("status");
    let jobs = state.lock();
    let data: Vec<_> = jobs
        .iter()
        .filter(|j| j.job_type == job_type)
        .filter(|j| status.as_deref().is_none_or(|s| s == j.status(settings)))
        .map(|j| describe(j, settings, base))
        .collect();
    let body = serde_json::json!({"data": data, "meta": {"result_count": data.len()}});
    whole(
        StatusCode::OK,
        "application/json",
        body.to_string().into_bytes(),
        None,
    )
}

async fn upload(request: Request<Incoming>, state: &JobsState, id: &str) -> Response<ResponseBody> {
    let body = match Limited::new(request.into_body(), MAX_UPLOAD)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the upload: {e}"),
            );
        }
    };
    let ids: Vec<i64> = String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let mut jobs = state.lock();
    let Some(job) = jobs.iter_mut().find(|j| j.id == id) else {
        return error(StatusCode::NOT_FOUND, "no such job");
    };
    job.uploads += 1;
    job.ids_uploaded = ids.len();
    job.uploaded = Some((Instant::now(), ids));
    whole(StatusCode::OK, "text/plain", Vec::new(), None)
}

fn download(state: &JobsState, settings: &JobsSettings, id: &str) -> Response<ResponseBody> {
    let mut jobs = state.lock();
    let Some(job) = jobs.iter_mut().find(|j| j.id == id) else {
        return error(StatusCode::NOT_FOUND, "no such job");
    };
    if job.status(settings) != "complete" {
        return error(StatusCode::NOT_FOUND, "the job has no results yet");
    }
    job.downloads += 1;
    let mut out = String::new();
    for &id in job
        .uploaded
        .as_ref()
        .map(|(_, ids)| ids.as_slice())
        .unwrap_or_default()
    {
        if let Some((action, reason)) = settings.verdict_of(id) {
            let line = serde_json::json!({"id": id.to_string(), "action": action,
                "created_at": "2026-01-02T03:04:05.000Z", "redacted_at": "2026-01-03T03:04:05.000Z",
                "reason": reason});
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    for line in &settings.extra_lines {
        out.push_str(line);
        out.push('\n');
    }
    whole(StatusCode::OK, "application/json", out.into_bytes(), None)
}

/// A job as the API shows it, its URLs on this simulator.
fn describe(job: &SimJob, settings: &JobsSettings, base: &str) -> serde_json::Value {
    serde_json::json!({
        "id": job.id, "type": job.job_type, "name": job.name, "resumable": false,
        "status": job.status(settings), "created_at": "2026-01-02T03:04:05.000Z",
        "upload_url": format!("{base}/sim/compliance/upload/{}", job.id),
        "upload_expires_at": "2026-01-02T03:19:05.000Z",
        "download_url": format!("{base}/sim/compliance/download/{}", job.id),
        "download_expires_at": "2026-01-09T03:04:05.000Z",
    })
}
