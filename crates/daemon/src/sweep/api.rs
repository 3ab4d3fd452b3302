//! The X API v2 compliance jobs API as the sweep uses it: create, get and list jobs (bearer
//! token), upload ids and download results (pre-signed URLs: no token).
//!
//! Every answer is hostile: bodies are read up to a bound, JSON that does not have a job's shape
//! is an error with a reason, and results are read line by line through the bounded splitter.

use crate::source::secrets::Secret;
use bytes::Bytes;
use serde::Deserialize;
use std::collections::VecDeque;
use std::time::Duration;
use streamvault_core::framing::{Line, LineSplitter};
use streamvault_core::sweep::{JobType, MAX_RESULT_LINE_BYTES};

/// Largest JSON answer read from the jobs API (a job is under 2 KB; a list of them small).
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A job as the server describes it (only what the sweep reads).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ServerJob {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    #[serde(default)]
    pub upload_url: Option<String>,
    #[serde(default)]
    pub download_url: Option<String>,
}

#[derive(Deserialize)]
struct One {
    data: ServerJob,
}

#[derive(Deserialize)]
struct Many {
    #[serde(default)]
    data: Vec<ServerJob>,
}

/// Why a request did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 429: wait this long (from `x-rate-limit-reset` or `retry-after`, when given).
    #[error("rate limited (HTTP 429)")]
    RateLimited(Option<Duration>),
    /// 409 on create: a job of this type is already running.
    #[error("a job of this type is already running (HTTP 409)")]
    Conflict,
    /// 401/403: the token is refused; retrying cannot help.
    #[error("the bearer token was refused (HTTP {0})")]
    Refused(u16),
    /// Any other status.
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The connection failed or timed out.
    #[error("network error: {0}")]
    Network(String),
    /// The answer is not what the API documents.
    #[error("unexpected answer: {0}")]
    Answer(String),
}

/// The jobs API of one server, with one app token.
pub struct JobsApi {
    client: reqwest::Client,
    base: String,
    token: Secret,
}

impl JobsApi {
    /// A client for `{api_base}/2/compliance/jobs`.
    pub fn new(api_base: &str, token: Secret) -> Result<JobsApi, ApiError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("streamvault/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok(JobsApi {
            client,
            base: api_base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// `POST /2/compliance/jobs`: a new job, not resumable (as twarc creates them).
    pub async fn create(&self, job_type: JobType, name: &str) -> Result<ServerJob, ApiError> {
        let body = serde_json::json!({"type": job_type.as_str(), "name": name, "resumable": false});
        let request = self
            .client
            .post(format!("{}/2/compliance/jobs", self.base))
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let answer = self.send(request).await?;
        Ok(parse::<One>(&answer)?.data)
    }

    /// `GET /2/compliance/jobs/{id}`.
    pub async fn get(&self, id: &str) -> Result<ServerJob, ApiError> {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let request = self
            .client
            .get(format!("{}/2/compliance/jobs/{id}", self.base))
            .bearer_auth(self.token.expose());
        Ok(parse::<One>(&self.send(request).await?)?.data)
    }

    /// `GET /2/compliance/jobs?type=..&status=..`.
    pub async fn list(&self, job_type: JobType, status: &str) -> Result<Vec<ServerJob>, ApiError> {
        let request = self
            .client
            .get(format!("{}/2/compliance/jobs", self.base))
            .query(&[("type", job_type.as_str()), ("status", status)])
            .bearer_auth(self.token.expose());
        Ok(parse::<Many>(&self.send(request).await?)?.data)
    }

    /// `PUT` of the ids, one per line, to the pre-signed `upload_url` (no token: the URL is
    /// the credential).
    pub async fn upload(&self, url: &str, ids: &[i64]) -> Result<(), ApiError> {
        let mut body = String::with_capacity(ids.len() * 20);
        for id in ids {
            body.push_str(&id.to_string());
            body.push('\n');
        }
        let request = self
            .client
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(body);
        self.send(request).await.map(drop)
    }

    /// Starts reading the results at the pre-signed `download_url` (no token).
    pub async fn download(&self, url: &str) -> Result<Results, ApiError> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| ApiError::Network(without_url(&e)))?;
        let response = check(response).await?;
        Ok(Results {
            response,
            splitter: LineSplitter::new(MAX_RESULT_LINE_BYTES, MAX_RESULT_LINE_BYTES),
            ready: VecDeque::new(),
            done: false,
        })
    }

    /// Sends a request; the body of a 200, bounded, or the error its status means.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Bytes, ApiError> {
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Network(without_url(&e)))?;
        let mut response = check(response).await?;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ApiError::Network(without_url(&e)))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ApiError::Answer(format!(
                    "answer over {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }
}

/// One line of the results as read: complete, or over the bound (its length).
#[derive(Debug, PartialEq)]
pub enum ResultLine {
    Complete(Vec<u8>),
    Oversize(usize),
}

/// The results of a job, line by line, never more than one network chunk in memory.
pub struct Results {
    response: reqwest::Response,
    splitter: LineSplitter,
    ready: VecDeque<ResultLine>,
    done: bool,
}

impl Results {
    /// The next line; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<ResultLine>, ApiError> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Ok(Some(line));
            }
            if self.done {
                return Ok(None);
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| ApiError::Network(without_url(&e)))?;
            let ready = &mut self.ready;
            let mut emit = |line: Line<'_>| {
                ready.push_back(match line {
                    Line::Complete(bytes) => ResultLine::Complete(bytes.to_vec()),
                    Line::Oversize { total, .. } => ResultLine::Oversize(total),
                })
            };
            match chunk {
                Some(bytes) => self.splitter.push(&bytes, &mut emit),
                None => {
                    self.splitter.finish(&mut emit);
                    self.done = true;
                }
            }
        }
    }
}

/// The error a non-200 status means (the body read up to a bound for the message).
async fn check(response: reqwest::Response) -> Result<reqwest::Response, ApiError> {
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(response);
    }
    let wait = rate_limit_wait(response.headers());
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    Err(match status {
        429 => ApiError::RateLimited(wait),
        409 => ApiError::Conflict,
        401 | 403 => ApiError::Refused(status),
        _ => ApiError::Http { status, body },
    })
}

/// How long a 429 asks to wait: until `x-rate-limit-reset` (UNIX seconds), else `retry-after`.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(reset) = number("x-rate-limit-reset") {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    number("retry-after").map(Duration::from_secs)
}

/// A reqwest error's text without its URL: a pre-signed URL is a credential.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Answer(format!("not a job answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_job_parses() {
        let body = br#"{"data":{"upload_expires_at":"2021-10-07T07:56:18.000Z","created_at":"2021-10-07T07:41:18.000Z","status":"created","download_url":"https://storage.example/d","resumable":false,"upload_url":"https://storage.example/u","type":"tweets","download_expires_at":"2021-10-14T07:41:18.000Z","id":"1446017776678801409"}}"#;
        let job = parse::<One>(body).unwrap().data;
        assert_eq!(job.id, "1446017776678801409");
        assert_eq!(job.status, "created");
        assert_eq!(job.upload_url.as_deref(), Some("https://storage.example/u"));
        assert!(parse::<One>(b"{\"data\":[]}").is_err());
        assert!(
            parse::<Many>(b"{\"meta\":{\"result_count\":0}}")
                .unwrap()
                .data
                .is_empty()
        );
    }

    #[test]
    fn rate_limit_waits_come_from_the_headers() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(rate_limit_wait(&h), None);
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(7)));
        let reset = chrono::Utc::now().timestamp() - 5;
        h.insert("x-rate-limit-reset", reset.to_string().parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Some(Duration::ZERO));
    }
}
