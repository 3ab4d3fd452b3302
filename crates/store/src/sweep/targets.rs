//! What the sweep reads and writes besides its jobs: the ids it exports, the authors of the
//! Posts a verdict names, the user profiles it erases, the verdicts it keeps unapplied, and when
//! each id was last verified.

use crate::sql::{Arg, Db};
use crate::{Operation, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use streamvault_core::sweep::JobType;

/// Tweets' and users' ids in id order, after a cursor, at most a limit: one chunk's ids.
const NEXT_TWEETS: &str =
    "SELECT tweet_id FROM tweets WHERE tweet_id > $1 ORDER BY tweet_id LIMIT $2";
const NEXT_TWEETS_SINCE: &str = "SELECT tweet_id FROM tweets WHERE tweet_id > $1 \
     AND first_seen_at >= $2 ORDER BY tweet_id LIMIT $3";
const NEXT_USERS: &str = "SELECT user_id FROM users WHERE user_id > $1 ORDER BY user_id LIMIT $2";

/// A chunk's ids again (a restart before its upload finished).
const RANGE_TWEETS: &str =
    "SELECT tweet_id FROM tweets WHERE tweet_id >= $1 AND tweet_id <= $2 ORDER BY tweet_id";
const RANGE_TWEETS_SINCE: &str = "SELECT tweet_id FROM tweets WHERE tweet_id >= $1 \
     AND tweet_id <= $2 AND first_seen_at >= $3 ORDER BY tweet_id";
const RANGE_USERS: &str =
    "SELECT user_id FROM users WHERE user_id >= $1 AND user_id <= $2 ORDER BY user_id";

/// The authors of a list of Posts (a JSON array of ids: one statement per group of verdicts).
const AUTHORS_SQLITE: &str = "SELECT tweet_id, user_id FROM tweets \
     WHERE tweet_id IN (SELECT value FROM json_each($1))";
const AUTHORS_POSTGRES: &str = "SELECT tweet_id, user_id FROM tweets \
     WHERE tweet_id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)";
const POSTS_OF: &str = "SELECT tweet_id FROM tweets WHERE user_id = $1 ORDER BY tweet_id";

/// Every archived id of a completed chunk is verified as of the job's completion (ids that
/// arrived after the export were not in the job and stay as they were).
const VERIFY_TWEETS: &str = "INSERT INTO compliance_verified (target, id, verified_at, job_name) \
     SELECT 'tweet', tweet_id, $1, $2 FROM tweets WHERE tweet_id >= $3 AND tweet_id <= $4 \
     AND first_seen_at <= $5 \
     ON CONFLICT (target, id) DO UPDATE SET verified_at = excluded.verified_at, \
     job_name = excluded.job_name";
const VERIFY_USERS: &str = "INSERT INTO compliance_verified (target, id, verified_at, job_name) \
     SELECT 'user', user_id, $1, $2 FROM users WHERE user_id >= $3 AND user_id <= $4 \
     ON CONFLICT (target, id) DO UPDATE SET verified_at = excluded.verified_at, \
     job_name = excluded.job_name";

const KEEP_VERDICT: &str = "INSERT INTO compliance_verdicts (job_name, line, target, target_id, \
     action, reason, created_at, redacted_at, outcome) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (job_name, line) DO NOTHING";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    NEXT_TWEETS,
    NEXT_TWEETS_SINCE,
    NEXT_USERS,
    RANGE_TWEETS,
    RANGE_TWEETS_SINCE,
    RANGE_USERS,
    AUTHORS_SQLITE,
    AUTHORS_POSTGRES,
    POSTS_OF,
    VERIFY_TWEETS,
    VERIFY_USERS,
    KEEP_VERDICT,
];

/// A verdict kept without being applied, and why (`compliance_verdicts`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptVerdict<'a> {
    pub job_name: &'a str,
    /// The verdict's line in the job's results (1-based).
    pub line: i64,
    pub job_type: JobType,
    pub target_id: i64,
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub created_at: Option<&'a str>,
    pub redacted_at: Option<&'a str>,
    /// `unknown` (action or reason not known) or `not_archived` (nothing left to apply it to).
    pub outcome: &'static str,
}

/// The next at most `limit` ids of `job_type` after `after`, in id order.
pub(super) async fn next_ids(
    db: Db<'_>,
    job_type: JobType,
    since: Option<DateTime<Utc>>,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = match (job_type, since) {
        (JobType::Tweets, None) => {
            db.fetch_all(NEXT_TWEETS, &[Arg::Int(Some(after)), Arg::Int(Some(limit))])
                .await
        }
        (JobType::Tweets, Some(t)) => {
            let args = [
                Arg::Int(Some(after)),
                Arg::Time(Some(t)),
                Arg::Int(Some(limit)),
            ];
            db.fetch_all(NEXT_TWEETS_SINCE, &args).await
        }
        (JobType::Users, _) => {
            db.fetch_all(NEXT_USERS, &[Arg::Int(Some(after)), Arg::Int(Some(limit))])
                .await
        }
    }
    .reading("exporting ids to sweep")?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The ids of `job_type` from `first` to `last` (a chunk exported again).
pub(super) async fn range_ids(
    db: Db<'_>,
    job_type: JobType,
    since: Option<DateTime<Utc>>,
    first: i64,
    last: i64,
) -> Result<Vec<i64>, StoreError> {
    let (a, b) = (Arg::Int(Some(first)), Arg::Int(Some(last)));
    let rows: Vec<(i64,)> = match (job_type, since) {
        (JobType::Tweets, None) => db.fetch_all(RANGE_TWEETS, &[a, b]).await,
        (JobType::Tweets, Some(t)) => {
            db.fetch_all(RANGE_TWEETS_SINCE, &[a, b, Arg::Time(Some(t))])
                .await
        }
        (JobType::Users, _) => db.fetch_all(RANGE_USERS, &[a, b]).await,
    }
    .reading("exporting a chunk's ids again")?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The authors of those of `tweet_ids` that are archived.
pub(super) async fn authors(
    db: Db<'_>,
    tweet_ids: &[i64],
) -> Result<HashMap<i64, Option<i64>>, StoreError> {
    if tweet_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = serde_json::to_string(tweet_ids)
        .map_err(|e| StoreError::internal(format_args!("cannot list ids: {e}")))?;
    let sql = match db {
        Db::Sqlite(_) => AUTHORS_SQLITE,
        Db::Postgres(_) => AUTHORS_POSTGRES,
    };
    let rows: Vec<(i64, Option<i64>)> = db
        .fetch_all(sql, &[Arg::Json(&ids)])
        .await
        .reading("reading the authors of swept Posts")?;
    Ok(rows.into_iter().collect())
}

/// The archived Posts of a user.
pub(super) async fn posts_of(db: Db<'_>, user_id: i64) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = db
        .fetch_all(POSTS_OF, &[Arg::Int(Some(user_id))])
        .await
        .reading("reading a swept user's Posts")?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Marks a completed chunk's archived ids verified at `at` by job `job_name`; how many.
pub(super) async fn verify(
    db: Db<'_>,
    job_type: JobType,
    job_name: &str,
    range: (i64, i64),
    exported_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut args = vec![
        Arg::Time(Some(at)),
        Arg::Str(job_name),
        Arg::Int(Some(range.0)),
        Arg::Int(Some(range.1)),
    ];
    let sql = match job_type {
        JobType::Tweets => {
            args.push(Arg::Time(Some(exported_at)));
            VERIFY_TWEETS
        }
        JobType::Users => VERIFY_USERS,
    };
    db.execute(sql, &args)
        .await
        .writing("recording the ids a sweep verified")
}

/// Keeps a verdict that was not applied; a line kept before (a restart) is not kept twice.
pub(super) async fn keep(db: Db<'_>, v: &KeptVerdict<'_>) -> Result<(), StoreError> {
    let args = [
        Arg::Str(v.job_name),
        Arg::Int(Some(v.line)),
        Arg::Str(v.job_type.target()),
        Arg::Int(Some(v.target_id)),
        Arg::Text(Some(v.action)),
        Arg::Text(v.reason),
        Arg::Text(v.created_at),
        Arg::Text(v.redacted_at),
        Arg::Str(v.outcome),
    ];
    db.execute(KEEP_VERDICT, &args)
        .await
        .writing("keeping a sweep verdict")?;
    Ok(())
}
