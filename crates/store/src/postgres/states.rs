//! The drop and user states a PostgreSQL lookup needs, read from their history
//! (`state_changes`) and folded by the rule the upserts follow, so a batch's Posts can be
//! audited against them.

use super::PgTx;
use crate::StoreError;
use sqlx::Row;
use streamvault_core::compliance::{Known, KnownState};
use streamvault_core::protocol::v2::UserState;

/// Every recorded drop of these Posts and state event of these users.
const STATE_HISTORY: &str = "SELECT target, target_id, state, value, event_at, \
     notice_received_at FROM state_changes \
     WHERE (target = 'tweet' AND state = 'dropped' AND target_id = ANY($1)) \
     OR (target = 'user' AND target_id = ANY($2))";

impl PgTx {
    /// Adds the states of these Posts (drops) and users to `known`.
    pub(super) async fn lookup_states(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
        known: &mut Known,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(STATE_HISTORY)
            .bind(tweet_ids)
            .bind(user_ids)
            .fetch_all(&mut *self.0)
            .await?;
        for r in rows {
            let (target, id, state): (&str, i64, &str) = (r.get(0), r.get(1), r.get(2));
            let event = KnownState {
                on: r.get(3),
                event_at: r.get(4),
                notice_received_at: r.get(5),
            };
            match (target, UserState::parse(state)) {
                ("user", Some(s)) => event.fold_into(&mut known.user_states, (id, s)),
                ("tweet", _) => event.fold_into(&mut known.drops, id),
                _ => {}
            }
        }
        Ok(())
    }
}
