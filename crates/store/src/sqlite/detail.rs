//! SQLite inserts of the per-kind detail rows (limits, warnings, disconnects, user events, ...).

use super::SqliteTx;
use crate::{StoreError, sqlite_time};
use rusqlite::params;
use streamvault_core::batch::DetailRow;
use streamvault_core::record::Detail;

impl SqliteTx {
    pub(super) fn insert_detail(&mut self, d: &DetailRow) -> Result<(), StoreError> {
        let at = sqlite_time(d.origin.received_at);
        let conn = d.origin.connection_id;
        let stream = &*d.origin.stream;
        let db = &self.db;
        match &d.detail {
            Detail::Limit { track } => db
                .prepare_cached(
                    "INSERT INTO limits (connection_id, received_at, track, stream) \
                     VALUES (?, ?, ?, ?)",
                )?
                .execute(params![conn, at, track, stream])?,
            Detail::Warning {
                code,
                message,
                percent_full,
                user_id,
            } => db
                .prepare_cached(
                    "INSERT INTO warnings (connection_id, received_at, code, message, \
                     percent_full, user_id, stream) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    conn,
                    at,
                    code,
                    message,
                    percent_full,
                    user_id,
                    stream
                ])?,
            Detail::Disconnect {
                code,
                stream_name,
                reason,
            } => db
                .prepare_cached(
                    "INSERT INTO disconnects (connection_id, received_at, code, code_name, \
                     stream_name, reason, stream) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    conn,
                    at,
                    code,
                    streamvault_core::protocol::disconnect_code_name(*code),
                    stream_name,
                    reason,
                    stream
                ])?,
            Detail::UserEvent {
                event,
                created_at,
                source_user_id,
                target_user_id,
                target_object_id,
            } => db
                .prepare_cached(
                    "INSERT INTO user_events (event, created_at, source_user_id, \
                     target_user_id, target_object_id, for_user, raw, received_at, stream) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    event,
                    created_at.map(sqlite_time),
                    source_user_id,
                    target_user_id,
                    target_object_id,
                    d.for_user,
                    d.raw.as_deref().unwrap_or("{}"),
                    at,
                    stream
                ])?,
            Detail::LiveConfig {
                session_id,
                subscription_ttl_millis,
                heartbeat_millis,
            } => db
                .prepare_cached(
                    "INSERT INTO live_sessions (session_id, stream, connection_id, \
                     subscription_ttl_millis, heartbeat_millis, started_at) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    session_id,
                    stream,
                    conn,
                    subscription_ttl_millis,
                    heartbeat_millis,
                    at
                ])?,
            Detail::Engagement {
                sample: e,
                session_id,
            } => db
                .prepare_cached(
                    "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, \
                     retweet_count, view_count, view_count_state, quote_count, reply_count, \
                     session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    e.tweet_id,
                    at,
                    e.like_count,
                    e.retweet_count,
                    e.view_count,
                    e.view_count_state,
                    e.quote_count,
                    e.reply_count,
                    session_id
                ])?,
            Detail::Dm {
                typing,
                conversation_id,
                user_id,
                session_id,
            } => db
                .prepare_cached(
                    "INSERT INTO dm_activity (kind, conversation_id, user_id, observed_at, \
                     session_id) VALUES (?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    if *typing { "typing" } else { "update" },
                    conversation_id,
                    user_id,
                    at,
                    session_id
                ])?,
            _ => return Ok(()),
        };
        Ok(())
    }
}
