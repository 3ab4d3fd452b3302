//! One compliance job, from its create to its last verdict applied, each step recorded before
//! the next so that a restart picks it up where it was.

use super::api::{ApiError, JobsApi, ResultLine, ServerJob};
use super::apply::apply;
use super::wait::Waits;
use super::{SweepError, SweepSummary};
use chrono::Utc;
use streamvault_core::sweep::{Verdict, parse_line};
use streamvault_store::sweep::{SweepJob, SweepStore};

/// Verdicts applied per transaction.
const GROUP: usize = 1000;
/// During a job, erased content is purged from the files at most this often (and at its
/// end); each erasing group records the purge it owes (`purges_due`) in its own transaction.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// Result lines read beyond the job's ids (a server cannot name more ids than it was given;
/// a few extra lines of noise are tolerated, the rest is not read).
const EXTRA_LINES: i64 = 10_000;

/// Runs `job` to its end: `applied`, `failed` or `expired` (its final status).
pub async fn drive<S: SweepStore>(
    store: &S,
    api: &JobsApi,
    waits: &mut Waits,
    mut job: SweepJob,
    summary: &mut SweepSummary,
) -> Result<&'static str, SweepError> {
    waits.new_job();
    if job.job_id.is_none() {
        let server = create(api, waits, &job, summary).await?;
        job.job_id = Some(server.id);
        job.status = "created".into();
        save(store, &mut job).await?;
        tracing::info!(job = %job.name, chunk = job.chunk, ids = job.ids, "compliance job created");
    }
    let id = job.job_id.clone().unwrap_or_default();
    let server = loop {
        let server = get(api, waits, &id).await?;
        match server.status.as_str() {
            "failed" | "expired" => {
                tracing::warn!(job = %job.name, status = %server.status, "compliance job ended without results: retrying as a new job");
                job.status = if server.status == "failed" {
                    "failed"
                } else {
                    "expired"
                }
                .into();
                job.finished_at = Some(Utc::now());
                save(store, &mut job).await?;
                return Ok(if server.status == "failed" {
                    "failed"
                } else {
                    "expired"
                });
            }
            "complete" => break server,
            _ if job.uploaded_at.is_none() => upload(store, api, waits, &mut job, &server).await?,
            _ => waits.poll().await,
        }
    };
    if job.completed_at.is_none() {
        job.completed_at = Some(Utc::now());
        job.status = "complete".into();
        save(store, &mut job).await?;
    }
    apply_results(store, api, waits, &mut job, &server, summary).await?;
    let verified_at = job.completed_at.unwrap_or_else(Utc::now);
    store.verify(&job, verified_at).await?;
    job.status = "applied".into();
    job.finished_at = Some(Utc::now());
    save(store, &mut job).await?;
    summary.ids += job.ids;
    tracing::info!(
        job = %job.name, applied = job.verdicts_applied, kept = job.verdicts_kept,
        malformed = job.malformed_lines, "compliance job applied"
    );
    Ok("applied")
}

async fn save<S: SweepStore>(store: &S, job: &mut SweepJob) -> Result<(), SweepError> {
    job.updated_at = Utc::now();
    Ok(store.update_job(job).await?)
}

/// Creates the job, or finds it: one created just before a crash, or adopted after a 409
/// because it is ours (by name). A 409 for another client's job waits for it to finish.
async fn create(
    api: &JobsApi,
    waits: &mut Waits,
    job: &SweepJob,
    summary: &mut SweepSummary,
) -> Result<ServerJob, SweepError> {
    loop {
        if let Some(ours) = find_ours(api, waits, job).await? {
            tracing::info!(job = %job.name, "adopting the compliance job already on the server");
            return Ok(ours);
        }
        match api.create(job.job_type, &job.name).await {
            Ok(server) => {
                waits.succeeded();
                summary.jobs_created += 1;
                return Ok(server);
            }
            Err(ApiError::Conflict) => {
                tracing::warn!(job = %job.name, "another compliance job of this type is running: waiting for it");
                waits.poll().await;
            }
            Err(e) => waits.after(e).await?,
        }
    }
}

/// A job of this type on the server with our job's name, not finished.
async fn find_ours(
    api: &JobsApi,
    waits: &mut Waits,
    job: &SweepJob,
) -> Result<Option<ServerJob>, SweepError> {
    for status in ["created", "in_progress", "complete"] {
        let listed = loop {
            match api.list(job.job_type, status).await {
                Ok(listed) => break listed,
                Err(e) => waits.after(e).await?,
            }
        };
        if let Some(ours) = listed
            .into_iter()
            .find(|j| j.name.as_deref() == Some(job.name.as_str()))
        {
            return Ok(Some(ours));
        }
    }
    Ok(None)
}

async fn get(api: &JobsApi, waits: &mut Waits, id: &str) -> Result<ServerJob, SweepError> {
    loop {
        match api.get(id).await {
            Ok(job) => {
                waits.succeeded();
                return Ok(job);
            }
            Err(e) => waits.after(e).await?,
        }
    }
}

/// Uploads the chunk's ids (exported again: they are not kept in the archive).
async fn upload<S: SweepStore>(
    store: &S,
    api: &JobsApi,
    waits: &mut Waits,
    job: &mut SweepJob,
    server: &ServerJob,
) -> Result<(), SweepError> {
    let Some(url) = server.upload_url.as_deref() else {
        return Err(SweepError::Api(ApiError::Answer(
            "a created job without an upload_url".into(),
        )));
    };
    let ids = store
        .range_ids(job.job_type, job.since, job.first_id, job.last_id)
        .await?;
    match api.upload(url, &ids).await {
        Ok(()) => {
            waits.succeeded();
            job.uploaded_at = Some(Utc::now());
            save(store, job).await?;
            tracing::info!(job = %job.name, ids = ids.len(), "ids uploaded");
        }
        Err(e) => waits.after(e).await?,
    }
    Ok(())
}

/// Downloads the results and applies them in groups, skipping the lines applied before a
/// restart; malformed lines are counted and logged with their reason.
async fn apply_results<S: SweepStore>(
    store: &S,
    api: &JobsApi,
    waits: &mut Waits,
    job: &mut SweepJob,
    server: &ServerJob,
    summary: &mut SweepSummary,
) -> Result<(), SweepError> {
    let Some(url) = server.download_url.as_deref() else {
        return Err(SweepError::Api(ApiError::Answer(
            "a complete job without a download_url".into(),
        )));
    };
    let mut results = loop {
        match api.download(url).await {
            Ok(r) => break r,
            Err(e) => waits.after(e).await?,
        }
    };
    let mut line_no = 0i64;
    let mut group: Vec<(i64, Verdict)> = Vec::new();
    let mut malformed = 0i64;
    let mut purge = Purge::default();
    let max_lines = job.ids + EXTRA_LINES;
    loop {
        let line = results.next().await.map_err(SweepError::Api)?;
        let Some(line) = line else { break };
        line_no += 1;
        if line_no > max_lines {
            tracing::warn!(job = %job.name, "results longer than the job's ids: the rest is not read");
            break;
        }
        if line_no <= job.lines_applied {
            continue;
        }
        let parsed = match line {
            ResultLine::Complete(bytes) => parse_line(&bytes).map_err(|m| m.reason),
            ResultLine::Oversize(total) => Err(format!("line of {total} bytes exceeds the bound")),
        };
        match parsed {
            Ok(Some(v)) => group.push((line_no, v)),
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(job = %job.name, line = line_no, %reason, "malformed compliance result line");
                malformed += 1;
            }
        }
        if group.len() >= GROUP {
            commit_group(
                store,
                job,
                &mut group,
                &mut malformed,
                line_no,
                summary,
                &mut purge,
            )
            .await?;
            purge.when_due(store, false).await?;
        }
    }
    commit_group(
        store,
        job,
        &mut group,
        &mut malformed,
        line_no,
        summary,
        &mut purge,
    )
    .await?;
    purge.when_due(store, true).await
}

/// Erasures not yet purged from the files, and when the last purge ran.
#[derive(Default)]
struct Purge {
    owed: bool,
    last: Option<std::time::Instant>,
}

impl Purge {
    /// Purges what is owed, at the end of a job or [`PURGE_EVERY`] after the last purge.
    async fn when_due<S: SweepStore>(&mut self, store: &S, end: bool) -> Result<(), SweepError> {
        let due = self.last.is_none_or(|l| l.elapsed() >= PURGE_EVERY);
        if self.owed && (end || due) {
            store.purge().await?;
            self.owed = false;
            self.last = Some(std::time::Instant::now());
        }
        Ok(())
    }
}

/// Applies a group and records how far the results are applied.
async fn commit_group<S: SweepStore>(
    store: &S,
    job: &mut SweepJob,
    group: &mut Vec<(i64, Verdict)>,
    malformed: &mut i64,
    through: i64,
    summary: &mut SweepSummary,
    purge: &mut Purge,
) -> Result<(), SweepError> {
    if through <= job.lines_applied {
        return Ok(());
    }
    let done = apply(store, job, group, Utc::now()).await?;
    purge.owed |= done.rows_erased > 0;
    job.lines_applied = through;
    job.verdicts_applied += done.applied;
    job.verdicts_kept += done.kept;
    job.malformed_lines += *malformed;
    summary.verdicts_applied += done.applied;
    summary.verdicts_kept += done.kept;
    summary.malformed_lines += *malformed;
    summary.rows_erased += done.rows_erased;
    save(store, job).await?;
    group.clear();
    *malformed = 0;
    Ok(())
}
