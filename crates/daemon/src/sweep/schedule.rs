//! The daemon's scheduled sweep (`[compliance] sweep_every`): each configured type is swept
//! when its last complete sweep is older than the interval (at once when it never finished, or
//! a run was left unfinished by a stop or a crash), in the background of `run`.

use super::{JobsApi, SweepOptions, sweep};
use crate::config::ComplianceSettings;
use crate::source::secrets::Secret;
use chrono::Utc;
use std::time::Duration;
use streamvault_core::sweep::JobType;
use streamvault_store::sweep::SweepStore;

/// After a sweep that failed, the next try comes at most this long later.
const RETRY_FAILED: Duration = Duration::from_secs(15 * 60);

/// Sweeps on schedule until the task is aborted (the daemon's stop): a sweep cut short is
/// continued by the next start, as after kill -9.
pub async fn run_scheduled<S: SweepStore>(
    store: S,
    settings: ComplianceSettings,
    token: Secret,
    scale: f64,
) {
    let Some(every) = settings.every() else {
        return;
    };
    let api = match JobsApi::new(&settings.api_base, token) {
        Ok(api) => api,
        Err(e) => return tracing::error!(error = %e, "the scheduled compliance sweep cannot start"),
    };
    let types: Vec<JobType> = settings
        .sweep_types
        .iter()
        .filter_map(|t| JobType::parse(t))
        .collect();
    loop {
        let mut next = every;
        for &job_type in &types {
            let wait = match due_in(&store, job_type, every).await {
                Ok(Duration::ZERO) => {
                    let options = SweepOptions::from_settings(&settings, scale, job_type, None);
                    match sweep(&store, &api, &options).await {
                        Ok(s) => {
                            tracing::info!(
                                job_type = job_type.as_str(),
                                chunks = s.chunks,
                                ids = s.ids,
                                applied = s.verdicts_applied,
                                kept = s.verdicts_kept,
                                malformed = s.malformed_lines,
                                "scheduled compliance sweep done"
                            );
                            every
                        }
                        Err(e) => {
                            tracing::error!(job_type = job_type.as_str(), error = %e, "scheduled compliance sweep failed: retrying later");
                            RETRY_FAILED.min(every)
                        }
                    }
                }
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the compliance sweep's schedule");
                    RETRY_FAILED.min(every)
                }
            };
            next = next.min(wait);
        }
        tokio::time::sleep(next.max(Duration::from_secs(1))).await;
    }
}

/// How long until `job_type` is due: zero when a run is unfinished or the last one finished
/// `every` ago or more (or never).
async fn due_in<S: SweepStore>(
    store: &S,
    job_type: JobType,
    every: Duration,
) -> Result<Duration, streamvault_store::StoreError> {
    if let Some(job) = store.latest_job(job_type).await? {
        if !job.is_finished() || !job.last_chunk {
            return Ok(Duration::ZERO);
        }
    }
    let Some(last) = store.last_sweep_finished(job_type).await? else {
        return Ok(Duration::ZERO);
    };
    let age = (Utc::now() - last).to_std().unwrap_or_default();
    Ok(every.saturating_sub(age))
}
