//! The per-kind detail rows (limits, warnings, disconnects, user events, live sessions,
//! engagement samples, direct-message activity): one statement each, the same on both backends.

use super::Arg;
use streamvault_core::batch::DetailRow;
use streamvault_core::record::Detail;

const LIMIT: &str =
    "INSERT INTO limits (connection_id, received_at, track, stream) VALUES ($1, $2, $3, $4)";
const WARNING: &str = "INSERT INTO warnings (connection_id, received_at, code, message, \
     percent_full, user_id, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const DISCONNECT: &str = "INSERT INTO disconnects (connection_id, received_at, code, code_name, \
     stream_name, reason, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const USER_EVENT: &str = "INSERT INTO user_events (event, created_at, source_user_id, \
     target_user_id, target_object_id, for_user, raw, received_at, stream) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const LIVE_SESSION: &str = "INSERT INTO live_sessions (session_id, stream, connection_id, \
     subscription_ttl_millis, heartbeat_millis, started_at) VALUES ($1, $2, $3, $4, $5, $6)";
const ENGAGEMENT: &str = "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, \
     retweet_count, view_count, view_count_state, quote_count, reply_count, session_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const DM_ACTIVITY: &str = "INSERT INTO dm_activity (kind, conversation_id, user_id, \
     observed_at, session_id) VALUES ($1, $2, $3, $4, $5)";

#[cfg(test)]
pub(super) const ALL: &[&str] = &[
    LIMIT,
    WARNING,
    DISCONNECT,
    USER_EVENT,
    LIVE_SESSION,
    ENGAGEMENT,
    DM_ACTIVITY,
];

/// Hands the statement that stores `d`, and its values, to `run` (which executes it on the
/// backend's transaction); `None` for kinds without a table of their own. Synchronous, so
/// that SQLite's batch path runs it without a future.
pub(crate) fn detail_insert<R>(
    d: &DetailRow,
    run: impl FnOnce(&'static str, &[Arg<'_>]) -> R,
) -> Option<R> {
    match &d.detail {
        Detail::LiveConfig { .. } | Detail::Engagement { .. } | Detail::Dm { .. } => {
            live_detail(d, run)
        }
        _ => stream_detail(d, run),
    }
}

fn text(s: &Option<String>) -> Arg<'_> {
    Arg::Text(s.as_deref())
}

/// The details of the v1.1 streams.
fn stream_detail<R>(d: &DetailRow, run: impl FnOnce(&'static str, &[Arg<'_>]) -> R) -> Option<R> {
    let at = Arg::Time(Some(d.origin.received_at));
    let conn = Arg::Int(d.origin.connection_id);
    let stream = Arg::Str(&d.origin.stream);
    Some(match &d.detail {
        Detail::Limit { track } => run(LIMIT, &[conn, at, Arg::Int(Some(*track)), stream]),
        Detail::Warning {
            code,
            message,
            percent_full,
            user_id,
        } => run(
            WARNING,
            &[
                conn,
                at,
                text(code),
                text(message),
                Arg::Int(*percent_full),
                Arg::Int(*user_id),
                stream,
            ],
        ),
        Detail::Disconnect {
            code,
            code_name,
            stream_name,
            reason,
        } => run(
            DISCONNECT,
            &[
                conn,
                at,
                Arg::Int(*code),
                match (code_name, code) {
                    (Some(name), _) => Arg::Text(Some(name)),
                    (None, Some(code)) => {
                        Arg::Str(streamvault_core::protocol::disconnect_code_name(*code))
                    }
                    (None, None) => Arg::Str("unknown"),
                },
                text(stream_name),
                text(reason),
                stream,
            ],
        ),
        Detail::UserEvent {
            event,
            created_at,
            source_user_id,
            target_user_id,
            target_object_id,
        } => run(
            USER_EVENT,
            &[
                Arg::Text(Some(event)),
                Arg::Time(*created_at),
                Arg::Int(*source_user_id),
                Arg::Int(*target_user_id),
                Arg::Int(*target_object_id),
                Arg::Int(d.for_user),
                Arg::RawJson(d.raw.as_deref().unwrap_or("{}")),
                at,
                stream,
            ],
        ),
        _ => return None,
    })
}

/// The details of live (topic) sessions.
fn live_detail<R>(d: &DetailRow, run: impl FnOnce(&'static str, &[Arg<'_>]) -> R) -> Option<R> {
    let at = Arg::Time(Some(d.origin.received_at));
    let stream = Arg::Str(&d.origin.stream);
    Some(match &d.detail {
        Detail::LiveConfig {
            session_id,
            subscription_ttl_millis,
            heartbeat_millis,
        } => run(
            LIVE_SESSION,
            &[
                Arg::Text(Some(session_id)),
                stream,
                Arg::Int(d.origin.connection_id),
                Arg::Int(*subscription_ttl_millis),
                Arg::Int(*heartbeat_millis),
                at,
            ],
        ),
        Detail::Engagement {
            sample: e,
            session_id,
        } => run(
            ENGAGEMENT,
            &[
                Arg::Int(e.tweet_id),
                at,
                Arg::Int(e.like_count),
                Arg::Int(e.retweet_count),
                Arg::Int(e.view_count),
                text(&e.view_count_state),
                Arg::Int(e.quote_count),
                Arg::Int(e.reply_count),
                text(session_id),
            ],
        ),
        Detail::Dm {
            typing,
            conversation_id,
            user_id,
            session_id,
        } => run(
            DM_ACTIVITY,
            &[
                Arg::Str(if *typing { "typing" } else { "update" }),
                Arg::Text(Some(conversation_id)),
                Arg::Int(*user_id),
                at,
                text(session_id),
            ],
        ),
        _ => return None,
    })
}
