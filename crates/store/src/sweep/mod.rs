//! The batch compliance sweep's part of the archive: its jobs (`compliance_jobs`), the verdicts
//! it kept unapplied (`compliance_verdicts`), when each id was last verified
//! (`compliance_verified`), and the reads and erasures it needs besides the batch write path.
//!
//! Verdicts on Posts go through the batch write path (`Store::write_batch`, with
//! [`crate::NoticeSource::Sweep`]), like any notice; only a user's profile, which no stream notice
//! erases, is erased here ([`SweepStore::erase_user`]).

mod jobs;
mod targets;

pub use jobs::SweepJob;
pub use targets::KeptVerdict;

use crate::sql::{Arg, Db, arguments};
use crate::{Operation, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;
use streamvault_core::sweep::JobType;

const ERASE_USER: &str = "DELETE FROM users WHERE user_id = $1";
const AUDIT_USER: &str = "INSERT INTO compliance_actions (kind, target_id, user_id, \
     notice_received_at, applied_at, rows_affected, deferred, source, reason) \
     VALUES ('user_erase', $1, $1, $2, $3, 1, FALSE, 'sweep', $4)";
const PURGE_DUE: &str = "INSERT INTO purges_due (erased_at, rows_erased) VALUES ($1, 1)";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[ERASE_USER, AUDIT_USER, PURGE_DUE];

/// The sweep's statements, on every [`Store`] (through its writer's pool, which sees every
/// commit).
pub trait SweepStore: Store {
    /// Records a new job.
    fn insert_job(&self, job: &SweepJob) -> impl Future<Output = Result<(), StoreError>> + Send {
        jobs::insert(self.writer(), job)
    }

    /// Records a job's progress.
    fn update_job(&self, job: &SweepJob) -> impl Future<Output = Result<(), StoreError>> + Send {
        jobs::update(self.writer(), job)
    }

    /// The most recent job of a type: the one to continue when it is not finished.
    fn latest_job(
        &self,
        job_type: JobType,
    ) -> impl Future<Output = Result<Option<SweepJob>, StoreError>> + Send {
        jobs::latest(self.writer(), job_type)
    }

    /// Every job recorded, oldest first.
    fn all_jobs(&self) -> impl Future<Output = Result<Vec<SweepJob>, StoreError>> + Send {
        jobs::all(self.writer())
    }

    /// When the last complete sweep of a type finished.
    fn last_sweep_finished(
        &self,
        job_type: JobType,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send {
        jobs::last_run_finished(self.writer(), job_type)
    }

    /// The next chunk's ids: at most `limit` after `after`, in id order.
    fn next_ids(
        &self,
        job_type: JobType,
        since: Option<DateTime<Utc>>,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send {
        targets::next_ids(self.writer(), job_type, since, after, limit)
    }

    /// A chunk's ids again, `first` to `last`.
    fn range_ids(
        &self,
        job_type: JobType,
        since: Option<DateTime<Utc>>,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send {
        targets::range_ids(self.writer(), job_type, since, first, last)
    }

    /// The authors of those Posts that are archived (a scrub is keyed by its author).
    fn authors(
        &self,
        tweet_ids: &[i64],
    ) -> impl Future<Output = Result<HashMap<i64, Option<i64>>, StoreError>> + Send {
        targets::authors(self.writer(), tweet_ids)
    }

    /// A user's archived Posts.
    fn posts_of(&self, user_id: i64) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send {
        targets::posts_of(self.writer(), user_id)
    }

    /// Marks a completed chunk's ids verified.
    fn verify(
        &self,
        job: &SweepJob,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let range = (job.first_id, job.last_id);
        targets::verify(
            self.writer(),
            job.job_type,
            &job.name,
            range,
            job.exported_at,
            at,
        )
    }

    /// Keeps a verdict that was not applied.
    fn keep_verdict(
        &self,
        verdict: &KeptVerdict<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        targets::keep(self.writer(), verdict)
    }

    /// Erases a user's profile (`users` row) in one transaction with its audit row
    /// (`user_erase`, source `sweep`, the verdict's reason) and the purge it owes; false when
    /// there was no profile (already erased: nothing is recorded again).
    fn erase_user(
        &self,
        user_id: i64,
        reason: Option<&str>,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        erase_user(self.writer(), user_id, reason, received_at, now)
    }
}

impl<S: Store> SweepStore for S {}

/// Runs the three statements of a user erasure in one transaction of either backend.
macro_rules! erase_in_tx {
    ($pool:expr, $db:ty, $user:expr, $audit:expr, $purge:expr) => {{
        let mut tx = $pool.begin().await.writing("erasing a swept user")?;
        let erased = sqlx::query_with(ERASE_USER, arguments::<$db>(&$user)?)
            .execute(&mut *tx)
            .await
            .writing("erasing a swept user")?
            .rows_affected();
        if erased > 0 {
            sqlx::query_with(AUDIT_USER, arguments::<$db>(&$audit)?)
                .execute(&mut *tx)
                .await
                .writing("auditing a swept user's erasure")?;
            sqlx::query_with(PURGE_DUE, arguments::<$db>(&$purge)?)
                .execute(&mut *tx)
                .await
                .writing("recording the purge a user's erasure owes")?;
        }
        tx.commit().await.writing("erasing a swept user")?;
        erased > 0
    }};
}

async fn erase_user(
    db: Db<'_>,
    user_id: i64,
    reason: Option<&str>,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let user = [Arg::Int(Some(user_id))];
    let audit = [
        Arg::Int(Some(user_id)),
        Arg::Time(Some(received_at)),
        Arg::Time(Some(now)),
        Arg::Text(reason),
    ];
    let purge = [Arg::Time(Some(now))];
    Ok(match db {
        Db::Sqlite(p) => erase_in_tx!(p, sqlx::Sqlite, user, audit, purge),
        Db::Postgres(p) => erase_in_tx!(p, sqlx::Postgres, user, audit, purge),
    })
}

#[cfg(test)]
mod tests {
    /// The sweep's shared statements mean the same to sqlx (by number) and rusqlite (by
    /// appearance).
    #[test]
    fn placeholders_are_numbered_in_order() {
        for sql in super::ALL
            .iter()
            .chain(super::jobs::ALL)
            .chain(super::targets::ALL)
        {
            assert!(crate::sql::numbered_in_order(sql), "{sql}");
        }
    }
}
