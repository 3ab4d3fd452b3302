//! PostgreSQL inserts of the per-kind detail rows (limits, warnings, disconnects, user events, ...).

use super::{PgTx, pg_json, pg_text};
use crate::StoreError;
use streamvault_core::batch::DetailRow;
use streamvault_core::record::Detail;

impl PgTx {
    pub(super) async fn insert_detail(&mut self, d: &DetailRow) -> Result<(), StoreError> {
        let at = d.origin.received_at;
        let conn = d.origin.connection_id;
        let stream = &*d.origin.stream;
        let query = match &d.detail {
            Detail::Limit { track } => sqlx::query(
                "INSERT INTO limits (connection_id, received_at, track, stream) VALUES ($1, $2, $3, $4)",
            )
            .bind(conn)
            .bind(at)
            .bind(track)
            .bind(stream),
            Detail::Warning { code, message, percent_full, user_id } => sqlx::query(
                "INSERT INTO warnings (connection_id, received_at, code, message, percent_full, \
                 user_id, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(conn)
            .bind(at)
            .bind(code.as_deref().map(pg_text))
            .bind(message.as_deref().map(pg_text))
            .bind(percent_full)
            .bind(user_id)
            .bind(stream),
            Detail::Disconnect { code, stream_name, reason } => sqlx::query(
                "INSERT INTO disconnects (connection_id, received_at, code, code_name, stream_name, \
                 reason, stream) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(conn)
            .bind(at)
            .bind(code)
            .bind(streamvault_core::protocol::disconnect_code_name(*code))
            .bind(stream_name.as_deref().map(pg_text))
            .bind(reason.as_deref().map(pg_text))
            .bind(stream),
            Detail::UserEvent { event, created_at, source_user_id, target_user_id, target_object_id } => {
                sqlx::query(
                    "INSERT INTO user_events (event, created_at, source_user_id, target_user_id, \
                     target_object_id, for_user, raw, received_at, stream) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)",
                )
                .bind(pg_text(event))
                .bind(created_at)
                .bind(source_user_id)
                .bind(target_user_id)
                .bind(target_object_id)
                .bind(d.for_user)
                .bind(pg_json(d.raw.as_deref().unwrap_or("{}")).into_owned())
                .bind(at)
                .bind(stream)
            }
            Detail::LiveConfig { session_id, subscription_ttl_millis, heartbeat_millis } => sqlx::query(
                "INSERT INTO live_sessions (session_id, stream, connection_id, \
                 subscription_ttl_millis, heartbeat_millis, started_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(pg_text(session_id))
            .bind(stream)
            .bind(conn)
            .bind(subscription_ttl_millis)
            .bind(heartbeat_millis)
            .bind(at),
            Detail::Engagement { sample: e, session_id } => sqlx::query(
                "INSERT INTO engagement_samples (tweet_id, observed_at, like_count, retweet_count, \
                 view_count, view_count_state, quote_count, reply_count, session_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(e.tweet_id)
            .bind(at)
            .bind(e.like_count)
            .bind(e.retweet_count)
            .bind(e.view_count)
            .bind(e.view_count_state.as_deref().map(pg_text))
            .bind(e.quote_count)
            .bind(e.reply_count)
            .bind(session_id.as_deref().map(pg_text)),
            Detail::Dm { typing, conversation_id, user_id, session_id } => sqlx::query(
                "INSERT INTO dm_activity (kind, conversation_id, user_id, observed_at, session_id) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(if *typing { "typing" } else { "update" })
            .bind(pg_text(conversation_id))
            .bind(user_id)
            .bind(at)
            .bind(session_id.as_deref().map(pg_text)),
            _ => return Ok(()),
        };
        query.execute(&mut *self.0).await?;
        Ok(())
    }
}
