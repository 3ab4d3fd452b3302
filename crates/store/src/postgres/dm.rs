//! The PostgreSQL statements of direct messages and their deletes (see [`crate::DmTx`]).

use super::json::pg_json;
use super::{PgTx, pg_text};
use crate::{DmDeletionRow, DmTx, PendingDm, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

impl DmTx for PgTx {
    async fn dm_deletions_of(
        &mut self,
        dm_ids: &[i64],
    ) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        let rows =
            sqlx::query("SELECT dm_id, notice_received_at FROM dm_deletions WHERE dm_id = ANY($1)")
                .bind(dm_ids)
                .fetch_all(&mut *self.0)
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn insert_dms(&mut self, dms: &[&PendingDm]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO direct_messages (dm_id, sender_id, recipient_id, created_at, text, stream, \
             first_seen_at, last_seen_at, raw) \
             SELECT dm_id, sender_id, recipient_id, created_at, text, stream, first_seen, \
             last_seen, raw::jsonb \
             FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::timestamptz[], $5::text[], \
             $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[]) \
             AS u(dm_id, sender_id, recipient_id, created_at, text, stream, first_seen, last_seen, raw) \
             ON CONFLICT (dm_id) DO UPDATE SET \
             last_seen_at = GREATEST(direct_messages.last_seen_at, EXCLUDED.last_seen_at)",
        )
        .bind(dms.iter().map(|d| d.row.dm_id).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| d.row.sender_id).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| d.row.recipient_id).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| d.row.created_at).collect::<Vec<_>>())
        .bind(
            dms.iter()
                .map(|d| d.row.text.as_deref().map(pg_text))
                .collect::<Vec<_>>(),
        )
        .bind(dms.iter().map(|d| d.stream.to_string()).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| d.first_seen).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| d.last_seen).collect::<Vec<_>>())
        .bind(dms.iter().map(|d| pg_json(&d.row.raw).into_owned()).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn erase_dms(&mut self, dm_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("DELETE FROM direct_messages WHERE dm_id = ANY($1) RETURNING dm_id")
            .bind(dm_ids)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn insert_dm_deletions(
        &mut self,
        rows: &[DmDeletionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let new = sqlx::query(
            "INSERT INTO dm_deletions (dm_id, user_id, notice_received_at, applied_at, \
             arrived_before_message) \
             SELECT dm_id, user_id, received, $4, before \
             FROM UNNEST($1::int8[], $2::int8[], $3::timestamptz[], $5::bool[]) \
             AS u(dm_id, user_id, received, before) \
             ON CONFLICT (dm_id) DO NOTHING RETURNING dm_id",
        )
        .bind(rows.iter().map(|r| r.dm_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.user_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.notice_received_at)
                .collect::<Vec<_>>(),
        )
        .bind(applied_at)
        .bind(
            rows.iter()
                .map(|r| r.arrived_before_message)
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *self.0)
        .await?;
        Ok(new.iter().map(|r| r.get(0)).collect())
    }

    async fn mark_dms_arrived(
        &mut self,
        dm_ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE dm_deletions SET message_arrived_at = $1 \
             WHERE message_arrived_at IS NULL AND dm_id = ANY($2)",
        )
        .bind(at)
        .bind(dm_ids)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}
