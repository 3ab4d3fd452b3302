//! The SQLite statements of direct messages and their deletes (see [`crate::DmTx`]).

use super::{SqliteTx, id_list, parse_time};
use crate::{DmDeletionRow, DmTx, PendingDm, StoreError, sqlite_time};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

// Synchronous, as every statement of a SQLite batch (see `SqliteStore::in_transaction`).
impl DmTx for SqliteTx {
    async fn dm_deletions_of(
        &mut self,
        dm_ids: &[i64],
    ) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        // Direct messages are few: one primary-key probe each.
        let mut stmt = self
            .db
            .prepare_cached("SELECT notice_received_at FROM dm_deletions WHERE dm_id = ?")?;
        let mut known = HashMap::new();
        for &id in dm_ids {
            if let Some(at) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                known.insert(id, parse_time(&at));
            }
        }
        Ok(known)
    }

    async fn insert_dms(&mut self, dms: &[&PendingDm]) -> Result<(), StoreError> {
        let mut stmt = self.db.prepare_cached(
            "INSERT INTO direct_messages (dm_id, sender_id, recipient_id, created_at, text, \
             stream, first_seen_at, last_seen_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (dm_id) DO UPDATE SET \
             last_seen_at = max(last_seen_at, excluded.last_seen_at)",
        )?;
        for d in dms {
            let r = &d.row;
            stmt.execute(params![
                r.dm_id,
                r.sender_id,
                r.recipient_id,
                r.created_at.map(sqlite_time),
                r.text.as_deref(),
                &*d.stream,
                sqlite_time(d.first_seen),
                sqlite_time(d.last_seen),
                r.raw.as_str(),
            ])?;
        }
        Ok(())
    }

    async fn erase_dms(&mut self, dm_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "DELETE FROM direct_messages WHERE dm_id IN (SELECT value FROM json_each(?)) \
             RETURNING dm_id",
        )?;
        let erased = stmt.query_map([id_list(dm_ids)], |r| r.get(0))?;
        Ok(erased.collect::<Result<_, _>>()?)
    }

    async fn insert_dm_deletions(
        &mut self,
        rows: &[DmDeletionRow],
        applied_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let applied = sqlite_time(applied_at);
        let mut stmt = self.db.prepare_cached(
            "INSERT INTO dm_deletions (dm_id, user_id, notice_received_at, applied_at, \
             arrived_before_message) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dm_id) DO NOTHING",
        )?;
        let mut new = Vec::new();
        for r in rows {
            let inserted = stmt.execute(params![
                r.dm_id,
                r.user_id,
                sqlite_time(r.notice_received_at),
                applied,
                r.arrived_before_message,
            ])?;
            if inserted == 1 {
                new.push(r.dm_id);
            }
        }
        Ok(new)
    }

    async fn mark_dms_arrived(
        &mut self,
        dm_ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "UPDATE dm_deletions SET message_arrived_at = ? WHERE message_arrived_at IS NULL \
                 AND dm_id IN (SELECT value FROM json_each(?))",
            )?
            .execute(params![sqlite_time(at), id_list(dm_ids)])?;
        Ok(())
    }
}
