//! `compliance_jobs`: the sweep's record of every compliance job, so that a restart (even after
//! kill -9) continues the job it was on rather than creating a second one.

use crate::sql::{Arg, Db, Timestamp};
use crate::{Operation, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};
use streamvault_core::sweep::JobType;

/// One compliance job as the sweep recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepJob {
    /// Ours, unique, sent as the job's `name`: a job created just before a crash is found on
    /// the server by it.
    pub name: String,
    /// The server's id; `None` until the create answered.
    pub job_id: Option<String>,
    pub job_type: JobType,
    /// One sweep of the archive, over one or more chunks.
    pub run_id: String,
    /// The chunk's position in its run (0-based) and the job's attempt at it (0-based: a
    /// failed or expired job is retried as a new attempt).
    pub chunk: i64,
    pub attempt: i64,
    /// `creating` (the create was not answered yet), `created`, `in_progress`, `complete`
    /// (results being applied), `applied`, `failed`, `expired`.
    pub status: String,
    /// The run's `--since` (tweets jobs: only Posts first seen since then).
    pub since: Option<DateTime<Utc>>,
    /// The chunk: the ids from `first_id` to `last_id`, `ids` of them, exported at `exported_at`.
    pub first_id: i64,
    pub last_id: i64,
    pub ids: i64,
    /// The run has no ids after this chunk.
    pub last_chunk: bool,
    pub exported_at: DateTime<Utc>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Result lines already applied (the first this many are skipped after a restart).
    pub lines_applied: i64,
    pub verdicts_applied: i64,
    /// Verdicts kept without being applied (unknown action or reason, id not archived).
    pub verdicts_kept: i64,
    pub malformed_lines: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl SweepJob {
    /// Whether nothing more will happen to this job: applied, or failed or expired (then
    /// retried as another job).
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "applied" | "failed" | "expired")
    }
}

const COLUMNS: &str = "name, job_id, job_type, run_id, chunk, attempt, status, since, first_id, \
     last_id, ids, last_chunk, exported_at, uploaded_at, completed_at, lines_applied, \
     verdicts_applied, verdicts_kept, malformed_lines, created_at, updated_at, finished_at";

const INSERT: &str = "INSERT INTO compliance_jobs (name, job_id, job_type, run_id, chunk, \
     attempt, status, since, first_id, last_id, ids, last_chunk, exported_at, uploaded_at, \
     completed_at, lines_applied, verdicts_applied, verdicts_kept, malformed_lines, created_at, \
     updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
     $14, $15, $16, $17, $18, $19, $20, $21, $22)";

const UPDATE: &str = "UPDATE compliance_jobs SET job_id = $1, status = $2, uploaded_at = $3, \
     completed_at = $4, lines_applied = $5, verdicts_applied = $6, verdicts_kept = $7, \
     malformed_lines = $8, updated_at = $9, finished_at = $10 WHERE name = $11";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[INSERT, UPDATE];

/// Reads a job row of either backend (22 columns: more than sqlx's tuples take).
macro_rules! job_from_row {
    ($row:ty) => {
        impl<'r> FromRow<'r, $row> for SweepJob {
            fn from_row(r: &'r $row) -> Result<Self, sqlx::Error> {
                let job_type: String = r.try_get("job_type")?;
                let time = |c: &str| r.try_get::<Timestamp, _>(c).map(|t| t.0);
                let opt_time =
                    |c: &str| r.try_get::<Option<Timestamp>, _>(c).map(|t| t.map(|t| t.0));
                Ok(SweepJob {
                    name: r.try_get("name")?,
                    job_id: r.try_get("job_id")?,
                    job_type: JobType::parse(&job_type).ok_or_else(|| {
                        sqlx::Error::Decode(format!("job_type {job_type:?}").into())
                    })?,
                    run_id: r.try_get("run_id")?,
                    chunk: r.try_get("chunk")?,
                    attempt: r.try_get("attempt")?,
                    status: r.try_get("status")?,
                    since: opt_time("since")?,
                    first_id: r.try_get("first_id")?,
                    last_id: r.try_get("last_id")?,
                    ids: r.try_get("ids")?,
                    last_chunk: r.try_get::<i64, _>("last_chunk")? != 0,
                    exported_at: time("exported_at")?,
                    uploaded_at: opt_time("uploaded_at")?,
                    completed_at: opt_time("completed_at")?,
                    lines_applied: r.try_get("lines_applied")?,
                    verdicts_applied: r.try_get("verdicts_applied")?,
                    verdicts_kept: r.try_get("verdicts_kept")?,
                    malformed_lines: r.try_get("malformed_lines")?,
                    created_at: time("created_at")?,
                    updated_at: time("updated_at")?,
                    finished_at: opt_time("finished_at")?,
                })
            }
        }
    };
}

job_from_row!(sqlx::sqlite::SqliteRow);
job_from_row!(sqlx::postgres::PgRow);

/// Records a new job (before its create is sent, status `creating`).
pub(super) async fn insert(db: Db<'_>, job: &SweepJob) -> Result<(), StoreError> {
    let args = [
        Arg::Str(&job.name),
        Arg::Text(job.job_id.as_deref()),
        Arg::Str(job.job_type.as_str()),
        Arg::Str(&job.run_id),
        Arg::Int(Some(job.chunk)),
        Arg::Int(Some(job.attempt)),
        Arg::Str(&job.status),
        Arg::Time(job.since),
        Arg::Int(Some(job.first_id)),
        Arg::Int(Some(job.last_id)),
        Arg::Int(Some(job.ids)),
        Arg::Int(Some(i64::from(job.last_chunk))),
        Arg::Time(Some(job.exported_at)),
        Arg::Time(job.uploaded_at),
        Arg::Time(job.completed_at),
        Arg::Int(Some(job.lines_applied)),
        Arg::Int(Some(job.verdicts_applied)),
        Arg::Int(Some(job.verdicts_kept)),
        Arg::Int(Some(job.malformed_lines)),
        Arg::Time(Some(job.created_at)),
        Arg::Time(Some(job.updated_at)),
        Arg::Time(job.finished_at),
    ];
    db.execute(INSERT, &args)
        .await
        .writing("recording a compliance job")?;
    Ok(())
}

/// Writes what changes as a job progresses.
pub(super) async fn update(db: Db<'_>, job: &SweepJob) -> Result<(), StoreError> {
    let args = [
        Arg::Text(job.job_id.as_deref()),
        Arg::Str(&job.status),
        Arg::Time(job.uploaded_at),
        Arg::Time(job.completed_at),
        Arg::Int(Some(job.lines_applied)),
        Arg::Int(Some(job.verdicts_applied)),
        Arg::Int(Some(job.verdicts_kept)),
        Arg::Int(Some(job.malformed_lines)),
        Arg::Time(Some(job.updated_at)),
        Arg::Time(job.finished_at),
        Arg::Str(&job.name),
    ];
    db.execute(UPDATE, &args)
        .await
        .writing("updating a compliance job")?;
    Ok(())
}

/// The most recent job of `job_type` (by creation, then chunk and attempt), if any.
pub(super) async fn latest(db: Db<'_>, job_type: JobType) -> Result<Option<SweepJob>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM compliance_jobs WHERE job_type = $1 \
         ORDER BY created_at DESC, chunk DESC, attempt DESC LIMIT 1"
    );
    let rows: Vec<SweepJob> = db
        .fetch_all(&sql, &[Arg::Str(job_type.as_str())])
        .await
        .reading("reading the latest compliance job")?;
    Ok(rows.into_iter().next())
}

/// Every job recorded, oldest first (for tests and the report).
pub(super) async fn all(db: Db<'_>) -> Result<Vec<SweepJob>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM compliance_jobs ORDER BY created_at, chunk, attempt");
    db.fetch_all(&sql, &[])
        .await
        .reading("reading the compliance jobs")
}

/// When the last run of `job_type` finished (its last chunk applied); `None`: never.
pub(super) async fn last_run_finished(
    db: Db<'_>,
    job_type: JobType,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (at,): (Option<Timestamp>,) = db
        .fetch_one(
            "SELECT MAX(finished_at) FROM compliance_jobs \
             WHERE job_type = $1 AND status = 'applied' AND last_chunk = 1",
            &[Arg::Str(job_type.as_str())],
        )
        .await
        .reading("reading when the last sweep finished")?;
    Ok(at.map(|t| t.0))
}
