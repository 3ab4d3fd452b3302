//! The compliance states the archive holds now (not windowed: a state is current or not):
//! Posts dropped, users deleted, protected or suspended, edit chains and the superseded
//! versions still stored. What the views `tweets_visible` / `users_visible` leave out.

use crate::content::{Table, num};
use serde::Serialize;
use streamvault_store::{Db, StoreError};

/// The current compliance states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComplianceStates {
    pub posts_dropped: u64,
    pub users_deleted: u64,
    pub users_protected: u64,
    pub users_suspended: u64,
    /// Edit chains known (two or more versions).
    pub edit_chains: u64,
    /// Older versions of edit chains still stored (`edits = "history"`), out of view.
    pub superseded_versions_stored: u64,
}

/// Booleans count alike on both backends (0/1 in SQLite).
const STATES: &str = "SELECT \
     (SELECT COUNT(*) FROM tweet_drops WHERE dropped), \
     (SELECT COUNT(*) FROM user_states WHERE deleted), \
     (SELECT COUNT(*) FROM user_states WHERE protected), \
     (SELECT COUNT(*) FROM user_states WHERE suspended), \
     (SELECT COUNT(*) FROM (SELECT initial_tweet_id FROM edit_chains \
        GROUP BY initial_tweet_id HAVING COUNT(*) > 1) AS chains), \
     (SELECT COUNT(*) FROM edit_chains c JOIN tweets t ON t.tweet_id = c.tweet_id \
        WHERE EXISTS (SELECT 1 FROM edit_chains n WHERE n.initial_tweet_id = c.initial_tweet_id \
        AND n.tweet_id > c.tweet_id))";

/// Reads the states.
pub(crate) async fn fetch(db: Db<'_>) -> Result<ComplianceStates, StoreError> {
    let r: (i64, i64, i64, i64, i64, i64) = db.fetch_one(STATES, &[]).await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(ComplianceStates {
        posts_dropped: n(r.0),
        users_deleted: n(r.1),
        users_protected: n(r.2),
        users_suspended: n(r.3),
        edit_chains: n(r.4),
        superseded_versions_stored: n(r.5),
    })
}

impl ComplianceStates {
    /// (name, count) in the order every format shows them.
    pub fn named(&self) -> [(&'static str, u64); 6] {
        [
            ("posts_dropped", self.posts_dropped),
            ("users_deleted", self.users_deleted),
            ("users_protected", self.users_protected),
            ("users_suspended", self.users_suspended),
            ("edit_chains", self.edit_chains),
            (
                "superseded_versions_stored",
                self.superseded_versions_stored,
            ),
        ]
    }
}

/// The states as a table (text and HTML).
pub(crate) fn table(s: &ComplianceStates) -> Table {
    Table {
        columns: &[("state", false), ("now", true)],
        rows: s
            .named()
            .iter()
            .map(|(name, n)| vec![name.replace('_', " "), num(*n)])
            .collect(),
    }
}
