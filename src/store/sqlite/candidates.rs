//! The notice filter's side of a SQLite lookup: which ids some notice may concern at all.

use super::{SqliteTx, poisoned};
use crate::store::StoreError;
use crate::store::notice_filter::KeyKind;

impl SqliteTx {
    /// The ids some notice may concern: the filter, brought up to date with the notices
    /// committed since this process last looked (by anyone), rules out the rest.
    pub(super) async fn candidates(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
    ) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
        let seen = self.1.lock().map_err(|_| poisoned())?.seen;
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM notice_keys")
            .fetch_one(&mut *self.0)
            .await?;
        if newest.is_some_and(|n| n > seen) {
            let rows: Vec<(i64, i64, i64)> =
                sqlx::query_as("SELECT seq, kind, key FROM notice_keys WHERE seq > ? ORDER BY seq")
                    .bind(seen)
                    .fetch_all(&mut *self.0)
                    .await?;
            let mut filter = self.1.lock().map_err(|_| poisoned())?;
            for (seq, kind, key) in rows {
                filter.insert(kind, key);
                filter.seen = filter.seen.max(seq);
            }
        }
        let filter = self.1.lock().map_err(|_| poisoned())?;
        let tweets = tweet_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::DeletedTweet, id)
                    || filter.may_contain(KeyKind::WithheldTweet, id)
            })
            .collect();
        let users = user_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::ScrubbedUser, id)
                    || filter.may_contain(KeyKind::WithheldUser, id)
            })
            .collect();
        Ok((tweets, users))
    }
}
