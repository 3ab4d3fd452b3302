//! The batch compliance sweep: the archive's ids checked against X's compliance jobs API, and
//! every verdict applied through the compliance engine (`streamvault compliance sweep`, and the
//! daemon's `[compliance] sweep_every`).
//!
//! A sweep is a *run* over the archive's ids in id order, in chunks of `chunk_ids`; each chunk
//! is one job: recorded (`compliance_jobs`), created, uploaded, polled until `complete`, its
//! results downloaded and applied in groups, its ids marked verified. Every step is recorded
//! before the next, so a restart (even after kill -9) continues the same job: a job whose create
//! was sent but not recorded is found on the server by its name. A job that ends `failed` or
//! `expired` is reported and retried as a new job on the same chunk. The server runs one job
//! per type at a time: a 409 makes the sweep adopt the running job when it is its own, else
//! wait for it.
//!
//! - `api`: the HTTP calls; `wait`: the waits between them; `job`: one job from create to
//!   applied; `apply`: a group of verdicts applied; `schedule`: the daemon's `sweep_every`.

mod api;
mod apply;
mod job;
mod schedule;
mod wait;

pub use api::{ApiError, JobsApi};
pub use apply::Applied;
pub use schedule::run_scheduled;

use crate::config::ComplianceSettings;
use crate::source::secrets::{Secret, SecretError, TokenSources, bearer_token_of};
use chrono::{DateTime, Utc};
use std::time::Duration;
use streamvault_core::sweep::JobType;
use streamvault_store::StoreError;
use streamvault_store::sweep::{SweepJob, SweepStore};

/// Why a sweep stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("compliance jobs API: {0}")]
    Api(ApiError),
    #[error("{0}")]
    GaveUp(String),
}

/// What one sweep is asked to do.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub job_type: JobType,
    /// Tweets: only Posts first seen since then.
    pub since: Option<DateTime<Utc>>,
    pub chunk_ids: u64,
    pub max_attempts: u32,
    pub poll_max: Duration,
    /// `reconnect.backoff_scale`: multiplies every wait.
    pub scale: f64,
}

impl SweepOptions {
    /// The options `[compliance]` and `[reconnect]` give for `job_type`.
    pub fn from_settings(
        settings: &ComplianceSettings,
        scale: f64,
        job_type: JobType,
        since: Option<DateTime<Utc>>,
    ) -> Self {
        SweepOptions {
            job_type,
            since,
            chunk_ids: settings.chunk_ids,
            max_attempts: settings.max_attempts,
            poll_max: Duration::from_secs(settings.poll_max_secs),
            scale,
        }
    }
}

/// What a sweep did (this invocation's share of the run).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SweepSummary {
    pub jobs_created: u32,
    /// Jobs continued from an earlier invocation (a restart).
    pub jobs_resumed: u32,
    pub jobs_failed: u32,
    pub chunks: u32,
    pub ids: i64,
    pub verdicts_applied: i64,
    pub verdicts_kept: i64,
    pub malformed_lines: i64,
    pub rows_erased: i64,
}

/// The `[compliance]` bearer token; `GaveUp` when none is configured.
pub fn token(settings: &ComplianceSettings) -> Result<Secret, TokenError> {
    let sources = TokenSources {
        file: settings.bearer_token_file.as_ref(),
        credential: settings.bearer_token_credential.as_ref(),
        env: settings.bearer_token_env.as_ref(),
    };
    bearer_token_of(sources, "compliance")?.ok_or(TokenError::Missing)
}

/// Why the sweep has no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "invalid configuration key `compliance.bearer_token_file`: the sweep needs an app \
         bearer token (bearer_token_file, bearer_token_env or bearer_token_credential)"
    )]
    Missing,
}

/// Sweeps the archive once: continues an unfinished run (or job) of this type, else starts a
/// new run, and returns when its last chunk is applied.
pub async fn sweep<S: SweepStore>(
    store: &S,
    api: &JobsApi,
    options: &SweepOptions,
) -> Result<SweepSummary, SweepError> {
    let mut summary = SweepSummary::default();
    let mut waits = wait::Waits::new(options.scale, options.poll_max);
    let mut failures = 0u32;
    let mut started = false;
    loop {
        let latest = store.latest_job(options.job_type).await?;
        let job = match latest {
            Some(job) if !job.is_finished() => {
                if !started {
                    summary.jobs_resumed += 1;
                }
                job
            }
            Some(job) if job.status == "failed" || job.status == "expired" => {
                failures += 1;
                if failures > options.max_attempts {
                    return Err(SweepError::GaveUp(format!(
                        "chunk {} of run {}: {} jobs in a row ended failed or expired",
                        job.chunk, job.run_id, failures
                    )));
                }
                retry_job(store, &job).await?
            }
            Some(job) if job.status == "applied" && !job.last_chunk => {
                match next_chunk(store, options, &job.run_id, job.chunk + 1, job.last_id).await? {
                    Some(next) => next,
                    None => return Ok(summary),
                }
            }
            _ if started => return Ok(summary),
            _ => match next_chunk(store, options, &run_id(), 0, 0).await? {
                Some(first) => first,
                None => return Ok(summary),
            },
        };
        started = true;
        let last_chunk = job.last_chunk;
        let outcome = job::drive(store, api, &mut waits, job, &mut summary).await?;
        if outcome == "applied" {
            failures = 0;
            summary.chunks += 1;
            if last_chunk {
                return Ok(summary);
            }
        } else {
            summary.jobs_failed += 1;
        }
    }
}

/// A random id for a new run.
fn run_id() -> String {
    format!("{:016x}", crate::reconnect::random_seed())
}

/// Records the job of the chunk after `after`; `None` when no id is left.
async fn next_chunk<S: SweepStore>(
    store: &S,
    options: &SweepOptions,
    run_id: &str,
    chunk: i64,
    after: i64,
) -> Result<Option<SweepJob>, SweepError> {
    let limit = i64::try_from(options.chunk_ids).unwrap_or(i64::MAX - 1);
    let mut ids = store
        .next_ids(options.job_type, options.since, after, limit + 1)
        .await?;
    let last_chunk = ids.len() as i64 <= limit;
    ids.truncate(limit as usize);
    let (Some(&first_id), Some(&last_id)) = (ids.first(), ids.last()) else {
        return Ok(None);
    };
    let now = Utc::now();
    let job = SweepJob {
        name: format!("streamvault-{run_id}-{chunk}-0"),
        job_id: None,
        job_type: options.job_type,
        run_id: run_id.to_owned(),
        chunk,
        attempt: 0,
        status: "creating".into(),
        since: options.since,
        first_id,
        last_id,
        ids: ids.len() as i64,
        last_chunk,
        exported_at: now,
        uploaded_at: None,
        completed_at: None,
        lines_applied: 0,
        verdicts_applied: 0,
        verdicts_kept: 0,
        malformed_lines: 0,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    store.insert_job(&job).await?;
    Ok(Some(job))
}

/// Records a new attempt at a failed or expired job's chunk.
async fn retry_job<S: SweepStore>(store: &S, failed: &SweepJob) -> Result<SweepJob, SweepError> {
    let now = Utc::now();
    let attempt = failed.attempt + 1;
    let job = SweepJob {
        name: format!("streamvault-{}-{}-{attempt}", failed.run_id, failed.chunk),
        job_id: None,
        attempt,
        status: "creating".into(),
        uploaded_at: None,
        completed_at: None,
        lines_applied: 0,
        verdicts_applied: 0,
        verdicts_kept: 0,
        malformed_lines: 0,
        created_at: now,
        updated_at: now,
        finished_at: None,
        ..failed.clone()
    };
    store.insert_job(&job).await?;
    Ok(job)
}
