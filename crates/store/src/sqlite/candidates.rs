//! The notice filter's side of a SQLite lookup: which ids some notice may concern at all.

use super::{SqliteTx, poisoned};
use crate::StoreError;
use crate::notice_filter::KeyKind;

impl SqliteTx {
    /// The ids some notice may concern: the filter, brought up to date with the notices
    /// committed since this process last looked (by anyone), rules out the rest.
    pub(super) fn candidates(
        &mut self,
        tweet_ids: &[i64],
        user_ids: &[i64],
    ) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
        let mut filter = self.filter.lock().map_err(|_| poisoned())?;
        let mut newer = self
            .db
            .prepare_cached("SELECT seq, kind, key FROM notice_keys WHERE seq > ? ORDER BY seq")?;
        let rows = newer.query_map([filter.seen], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (seq, kind, key) = row?;
            filter.insert(kind, key);
            filter.seen = filter.seen.max(seq);
        }
        let tweets = tweet_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::DeletedTweet, id)
                    || filter.may_contain(KeyKind::WithheldTweet, id)
                    || filter.may_contain(KeyKind::StatedTweet, id)
            })
            .collect();
        let users = user_ids
            .iter()
            .copied()
            .filter(|&id| {
                filter.may_contain(KeyKind::ScrubbedUser, id)
                    || filter.may_contain(KeyKind::WithheldUser, id)
                    || filter.may_contain(KeyKind::StatedUser, id)
            })
            .collect();
        Ok((tweets, users))
    }
}
