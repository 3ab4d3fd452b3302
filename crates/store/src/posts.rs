//! What a batch did with the Posts it carried, for `replay`'s summary: new to the archive, seen
//! again, or refused by a tombstone (a delete the archive already knows).

use crate::{Batch, Rows};
use std::collections::HashSet;
use streamvault_core::protocol::Kind;

/// One batch's Posts by outcome. A Post is a message of kind `tweet` (a status, a v2 Post line,
/// a page's Post, a flattened Post), counted once per time it was read; the Posts it carried
/// (retweeted, quoted, included) are counted apart, as `included_new`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PostTally {
    /// Read for the first time: its row was inserted by this batch.
    pub new: u64,
    /// Already archived (or read earlier in the batch): only its seen times moved.
    pub seen_again: u64,
    /// Not stored: a delete the archive knows dooms it (or the status it retweets).
    pub refused: u64,
    /// Rows of carried Posts (retweeted, quoted, included) new to the archive.
    pub included_new: u64,
}

impl PostTally {
    /// Counts `batch`'s Posts, given the rows compliance let through and the ids inserted new.
    pub fn count(batch: &Batch, rows: &Rows<'_>, inserted: &[i64]) -> PostTally {
        let mut tally = PostTally::default();
        if batch.tweets.is_empty() {
            return tally;
        }
        let kept: HashSet<i64> = rows.tweets.iter().map(|(_, r)| r.tweet_id).collect();
        let mut new: HashSet<i64> = inserted.iter().copied().collect();
        let posts = batch
            .events
            .iter()
            .filter(|e| e.kind == Kind::Tweet)
            .filter_map(|e| e.tweet_id);
        for id in posts {
            if !kept.contains(&id) {
                tally.refused += 1;
            } else if new.remove(&id) {
                tally.new += 1;
            } else {
                tally.seen_again += 1;
            }
        }
        tally.included_new = new.len() as u64;
        tally
    }

    /// Adds another batch's counts.
    pub fn add(&mut self, other: &PostTally) {
        self.new += other.new;
        self.seen_again += other.seen_again;
        self.refused += other.refused;
        self.included_new += other.included_new;
    }
}
