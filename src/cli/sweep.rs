//! `compliance sweep`: the archive's ids checked with X's batch compliance jobs, every verdict
//! applied (see the daemon's `sweep` module).

use super::args::SweepType;
use super::commands::Overrides;
use super::{Failure, open_migrated};
use crate::store;
use crate::sweep::{self, JobsApi, SweepError, SweepOptions, SweepSummary};
use crate::sweep_results::JobType;
use crate::with_store;

/// Runs one sweep of `job_type` and prints what it did.
pub(super) async fn run(
    overrides: &Overrides,
    job_type: SweepType,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    let token = sweep::token(&settings.compliance).map_err(|e| Failure::Usage(e.to_string()))?;
    let job_type = match job_type {
        SweepType::Tweets => JobType::Tweets,
        SweepType::Users => JobType::Users,
    };
    if since.is_some() && job_type == JobType::Users {
        return Err(Failure::Usage(
            "--since applies to tweets only (users have no first-seen time)".into(),
        ));
    }
    let api = JobsApi::new(&settings.compliance.api_base, token)
        .map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
    let options = SweepOptions::from_settings(
        &settings.compliance,
        settings.reconnect.backoff_scale,
        job_type,
        since,
    );
    // It writes like a daemon: never beside one on a SQLite archive (the daemon sweeps on
    // its own schedule there, `[compliance] sweep_every`).
    let _lock = store::lock_archive(&settings.database.url)?;
    let backend = open_migrated(&settings.database.url).await?;
    let result = with_store!(backend.clone(), s => sweep::sweep(&s, &api, &options).await);
    backend.close().await;
    match result {
        Ok(summary) => {
            print_summary(&summary);
            Ok(())
        }
        Err(SweepError::Store(e)) => Err(Failure::Database(e)),
        Err(SweepError::Api(sweep::ApiError::Refused(status))) => Err(Failure::CredentialsRefused(
            format!("the compliance jobs API refused the bearer token (HTTP {status})"),
        )),
        Err(e) => Err(Failure::Other(anyhow::anyhow!("compliance sweep: {e}"))),
    }
}

fn print_summary(s: &SweepSummary) {
    println!(
        "compliance sweep: {} chunk(s), {} ids verified; jobs created {}, resumed {}, \
         failed or expired {}; verdicts applied {}, kept unapplied {}, malformed lines {}; \
         rows erased {}",
        s.chunks,
        s.ids,
        s.jobs_created,
        s.jobs_resumed,
        s.jobs_failed,
        s.verdicts_applied,
        s.verdicts_kept,
        s.malformed_lines,
        s.rows_erased
    );
}
