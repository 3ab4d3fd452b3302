//! The drop and user states a SQLite lookup needs, read from their history (`state_changes`)
//! and folded by the rule the upserts follow, so a batch's Posts can be audited against them.

use super::{SqliteTx, parse_time};
use crate::StoreError;
use rusqlite::params;
use streamvault_core::compliance::{Known, KnownState};
use streamvault_core::protocol::v2::UserState;

/// Every recorded state event of one target (a Post's `edited` marks are not states).
const HISTORY: &str = "SELECT state, value, event_at, notice_received_at FROM state_changes \
     WHERE target = ? AND target_id = ? AND state <> 'edited'";

impl SqliteTx {
    /// Adds the states of these Posts (drops) and users to `known`.
    pub(super) fn lookup_states(
        &self,
        tweet_ids: &[i64],
        user_ids: &[i64],
        known: &mut Known,
    ) -> Result<(), StoreError> {
        let mut history = self.db.prepare_cached(HISTORY)?;
        for (target, ids) in [("tweet", tweet_ids), ("user", user_ids)] {
            for &id in ids {
                let rows = history.query_map(params![target, id], |r| {
                    let event = KnownState {
                        on: r.get(1)?,
                        event_at: parse_time(&r.get::<_, String>(2)?),
                        notice_received_at: parse_time(&r.get::<_, String>(3)?),
                    };
                    Ok((r.get::<_, String>(0)?, event))
                })?;
                for row in rows {
                    let (state, event) = row?;
                    match (target, UserState::parse(&state)) {
                        ("user", Some(s)) => event.fold_into(&mut known.user_states, (id, s)),
                        ("tweet", None) if state == "dropped" => {
                            event.fold_into(&mut known.drops, id)
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}
