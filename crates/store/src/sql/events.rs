//! The v2 compliance events that change a state rather than content, the same on both
//! backends: `drop`/`undrop`, the user states, and the record of `tweet_edit` events.
//!
//! Every event is first a `state_changes` row (its primary key makes a repeated event a
//! no-op); the current state (`tweet_drops`, `user_states`) then takes the event's value only
//! when no later event (by `event_at`) is recorded, so the order of arrival does not matter.
//! Nothing is erased: the views `tweets_visible` and `users_visible` leave out what a state
//! hides, now and for Posts that arrive later.

use super::{Arg, Statements};
use crate::{Notice, StoreError};
use chrono::{DateTime, Utc};
use std::future::Future;
use streamvault_core::protocol::v2::UserState;

const INSERT_CHANGE: &str = "INSERT INTO state_changes (target, target_id, state, value, \
     event_at, notice_received_at, applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT DO NOTHING";

const UPSERT_DROP: &str = "INSERT INTO tweet_drops (tweet_id, author_id, dropped, event_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (tweet_id) DO UPDATE SET \
     dropped = excluded.dropped, event_at = excluded.event_at \
     WHERE tweet_drops.event_at < excluded.event_at \
     OR (tweet_drops.event_at = excluded.event_at AND excluded.dropped)";

/// One upsert per user state: the flag and its time columns differ.
const UPSERT_DELETED: &str = "INSERT INTO user_states (user_id, deleted, deleted_at) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
     deleted = excluded.deleted, deleted_at = excluded.deleted_at \
     WHERE user_states.deleted_at IS NULL OR user_states.deleted_at < excluded.deleted_at \
     OR (user_states.deleted_at = excluded.deleted_at AND excluded.deleted)";
const UPSERT_PROTECTED: &str = "INSERT INTO user_states (user_id, protected, protected_at) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
     protected = excluded.protected, protected_at = excluded.protected_at \
     WHERE user_states.protected_at IS NULL OR user_states.protected_at < excluded.protected_at \
     OR (user_states.protected_at = excluded.protected_at AND excluded.protected)";
const UPSERT_SUSPENDED: &str = "INSERT INTO user_states (user_id, suspended, suspended_at) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
     suspended = excluded.suspended, suspended_at = excluded.suspended_at \
     WHERE user_states.suspended_at IS NULL OR user_states.suspended_at < excluded.suspended_at \
     OR (user_states.suspended_at = excluded.suspended_at AND excluded.suspended)";

const TWEETS_OF_ID: &str = "SELECT COUNT(*) FROM tweets WHERE tweet_id = $1";
const TWEETS_OF_USER: &str = "SELECT COUNT(*) FROM tweets WHERE user_id = $1";

const INSERT_PROFILE: &str = "INSERT INTO profile_modifications (user_id, profile_field, \
     new_value, member, event_at, notice_received_at, applied_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
/// Sets a user's `raw` member `$1` to the newest modification of it, when that is newer than
/// the stored profile and not its value already (so the rows changed are the applications):
/// (SQLite, PostgreSQL). SQLite's path is `$.MEMBER`, its `$` written as `char(36)` so that the
/// statement's only `$`s are its placeholders.
const SET_PROFILE: (&str, &str) = (
    "UPDATE users SET raw = json_set(raw, char(36) || '.' || $1, \
       (SELECT p.new_value FROM profile_modifications p WHERE p.user_id = $2 AND p.member = $1 \
        ORDER BY p.event_at DESC LIMIT 1)) \
     WHERE user_id = $2 AND CASE WHEN json_valid(raw) THEN json_type(raw) END = 'object' \
     AND (SELECT MAX(p.event_at) FROM profile_modifications p \
          WHERE p.user_id = $2 AND p.member = $1) > updated_at \
     AND CASE WHEN json_valid(raw) THEN json_extract(raw, char(36) || '.' || $1) END IS NOT \
       (SELECT p.new_value FROM profile_modifications p WHERE p.user_id = $2 AND p.member = $1 \
        ORDER BY p.event_at DESC LIMIT 1)",
    "UPDATE users SET raw = jsonb_set(raw, ARRAY[$1::text], to_jsonb( \
       (SELECT p.new_value FROM profile_modifications p WHERE p.user_id = $2 AND p.member = $1 \
        ORDER BY p.event_at DESC LIMIT 1))) \
     WHERE user_id = $2 AND jsonb_typeof(raw) = 'object' \
     AND (SELECT MAX(p.event_at) FROM profile_modifications p \
          WHERE p.user_id = $2 AND p.member = $1) > updated_at \
     AND raw -> $1::text IS DISTINCT FROM to_jsonb( \
       (SELECT p.new_value FROM profile_modifications p WHERE p.user_id = $2 AND p.member = $1 \
        ORDER BY p.event_at DESC LIMIT 1))",
);
/// When the newest applicable modification of user `$1` was received, in milliseconds since
/// the epoch: (SQLite, PostgreSQL).
const NEWEST_NOTICE_MS: (&str, &str) = (
    "SELECT CAST(ROUND((julianday(MAX(notice_received_at)) - 2440587.5) * 86400000.0) AS INTEGER) \
     FROM profile_modifications WHERE user_id = $1 AND member IS NOT NULL",
    "SELECT (EXTRACT(EPOCH FROM MAX(notice_received_at)) * 1000)::bigint \
     FROM profile_modifications WHERE user_id = $1 AND member IS NOT NULL",
);
/// The users among a JSON array of ids with a recorded modification: (SQLite, PostgreSQL).
const MODIFIED_USERS: (&str, &str) = (
    "SELECT DISTINCT user_id FROM profile_modifications \
     WHERE member IS NOT NULL AND user_id IN (SELECT value FROM json_each($1))",
    "SELECT DISTINCT user_id FROM profile_modifications \
     WHERE member IS NOT NULL AND user_id IN (SELECT jsonb_array_elements_text($1)::bigint)",
);
/// Whether any modification is recorded: most archives have none, and then a batch's
/// profiles need no lookup.
const ANY_PROFILE: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM profile_modifications \
     WHERE member IS NOT NULL LIMIT 1) AS any_row";
/// The members a profile modification may set.
const MEMBERS: &[&str] = &[
    "name",
    "location",
    "description",
    "url",
    "profile_image_url",
    "profile_banner_url",
];

#[cfg(test)]
pub(super) const ALL: &[&str] = &[
    INSERT_CHANGE,
    UPSERT_DROP,
    UPSERT_DELETED,
    UPSERT_PROTECTED,
    UPSERT_SUSPENDED,
    TWEETS_OF_ID,
    TWEETS_OF_USER,
    INSERT_PROFILE,
    SET_PROFILE.0,
    SET_PROFILE.1,
    MODIFIED_USERS.0,
    MODIFIED_USERS.1,
    NEWEST_NOTICE_MS.0,
    NEWEST_NOTICE_MS.1,
    ANY_PROFILE,
];

/// The `raw` member a `profile_field` names (X's names, CDO), for v1.1 and v2 user objects
/// alike; `None` for fields the archive does not keep.
pub fn profile_member(field: &str) -> Option<&'static str> {
    Some(match field {
        "profile.name" => "name",
        "profile.location" => "location",
        "profile.description" => "description",
        "profile.url" => "url",
        "profile.profileImage" | "profile.profileImage.url" => "profile_image_url",
        "profile.profileBanner" | "profile.profileBanner.url" => "profile_banner_url",
        _ => return None,
    })
}

/// A state change as the history records it.
pub struct Change<'a> {
    pub target: &'static str,
    pub target_id: i64,
    pub state: &'static str,
    pub value: bool,
    pub event_at: DateTime<Utc>,
    pub notice: &'a Notice,
}

/// The state and profile statements (see the module documentation).
pub trait StateEvents: Statements {
    /// Records a change in the history; false when the same event was recorded before.
    fn record_change(
        &mut self,
        c: &Change<'_>,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            let args = [
                Arg::Str(c.target),
                Arg::Int(Some(c.target_id)),
                Arg::Str(c.state),
                Arg::Bool(c.value),
                Arg::Time(Some(c.event_at)),
                Arg::Time(Some(c.notice.received_at)),
                Arg::Time(Some(applied_at)),
            ];
            Ok(self.execute(INSERT_CHANGE, &args).await? == 1)
        }
    }

    /// Sets a Post's drop state unless a later event set it; the archived rows it concerns.
    fn set_drop(
        &mut self,
        tweet_id: i64,
        author_id: i64,
        dropped: bool,
        event_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        async move {
            let args = [
                Arg::Int(Some(tweet_id)),
                Arg::Int(Some(author_id)),
                Arg::Bool(dropped),
                Arg::Time(Some(event_at)),
            ];
            self.execute(UPSERT_DROP, &args).await?;
            let n = self.ints(TWEETS_OF_ID, &[Arg::Int(Some(tweet_id))]).await?;
            Ok(n.first().copied().unwrap_or(0))
        }
    }

    /// Sets a user state unless a later event set it; the user's archived Posts.
    fn set_user_state(
        &mut self,
        user_id: i64,
        state: UserState,
        on: bool,
        event_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        async move {
            let sql = match state {
                UserState::Deleted => UPSERT_DELETED,
                UserState::Protected => UPSERT_PROTECTED,
                UserState::Suspended => UPSERT_SUSPENDED,
            };
            let id = Arg::Int(Some(user_id));
            self.execute(sql, &[id, Arg::Bool(on), Arg::Time(Some(event_at))])
                .await?;
            let n = self.ints(TWEETS_OF_USER, &[id]).await?;
            Ok(n.first().copied().unwrap_or(0))
        }
    }

    /// Records a profile modification and applies it to the user's `raw` when it is the newest
    /// of its field and newer than the stored profile. `None` for a repeated event, else the
    /// rows changed.
    fn modify_profile(
        &mut self,
        postgres: bool,
        notice: &Notice,
        (user_id, field, value): (i64, &str, &str),
        event_at: DateTime<Utc>,
        applied_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send {
        async move {
            let id = Arg::Int(Some(user_id));
            let member = profile_member(field);
            let args = [
                id,
                Arg::Text(Some(field)),
                Arg::Text(Some(value)),
                Arg::Text(member),
                Arg::Time(Some(event_at)),
                Arg::Time(Some(notice.received_at)),
                Arg::Time(Some(applied_at)),
            ];
            if self.execute(INSERT_PROFILE, &args).await? == 0 {
                return Ok(None);
            }
            let Some(member) = member else {
                return Ok(Some(0));
            };
            let sql = if postgres {
                SET_PROFILE.1
            } else {
                SET_PROFILE.0
            };
            let changed = self.execute(sql, &[Arg::Str(member), id]).await?;
            Ok(Some(changed as i64))
        }
    }

    /// Applies recorded modifications to the batch's incoming profiles that are older than
    /// them (a profile seen before the change, arriving after its event). Returns the users
    /// whose profile it changed, each with when its newest modification was received (ms since
    /// the epoch): the deferred applications to audit.
    fn reapply_profiles(
        &mut self,
        postgres: bool,
        user_ids: &[i64],
    ) -> impl Future<Output = Result<Vec<(i64, i64)>, StoreError>> + Send {
        async move {
            let mut changed = Vec::new();
            if user_ids.is_empty() || self.ints(ANY_PROFILE, &[]).await?.first() == Some(&0) {
                return Ok(changed);
            }
            let list = serde_json::to_string(user_ids).unwrap_or_else(|_| "[]".into());
            let (find, set, newest) = if postgres {
                (MODIFIED_USERS.1, SET_PROFILE.1, NEWEST_NOTICE_MS.1)
            } else {
                (MODIFIED_USERS.0, SET_PROFILE.0, NEWEST_NOTICE_MS.0)
            };
            for user in self.ints(find, &[Arg::Json(&list)]).await? {
                let mut rows = 0;
                for member in MEMBERS {
                    rows += self
                        .execute(set, &[Arg::Str(member), Arg::Int(Some(user))])
                        .await?;
                }
                if rows > 0 {
                    let at = self.ints(newest, &[Arg::Int(Some(user))]).await?;
                    changed.push((user, at.first().copied().unwrap_or(0)));
                }
            }
            Ok(changed)
        }
    }
}

impl<T: Statements> StateEvents for T {}
