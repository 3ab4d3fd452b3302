//! Edit chains as the data states them: a v2 Post's `edit_history_tweet_ids` lists every
//! version up to itself (oldest first). The row keeps only the chain's first id as a column, so
//! the whole list is read back from `raw` where a rule needs it: for edited Posts only (most
//! Posts' history is their own id).

use crate::protocol::v2::compliance::MAX_EDIT_IDS;
use crate::record::{Api, TweetRow};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct HistoryWire<'a> {
    #[serde(borrow, default)]
    edit_history_tweet_ids: Vec<Cow<'a, str>>,
}

/// The ids of a Post's edit chain known from its own row: every id of its
/// `edit_history_tweet_ids` when it was edited (more than its own id), else nothing. Ids that
/// are not decimal strings are left out; at most [`MAX_EDIT_IDS`].
pub fn edit_history(row: &TweetRow) -> Vec<i64> {
    let edited = row.api == Api::V2 && row.edit_initial_id.is_some_and(|i| i != row.tweet_id);
    if !edited {
        return Vec::new();
    }
    let Ok(wire) = serde_json::from_str::<HistoryWire<'_>>(&row.raw) else {
        return Vec::new();
    };
    wire.edit_history_tweet_ids
        .iter()
        .take(MAX_EDIT_IDS)
        .filter_map(|s| s.parse::<i64>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, initial: Option<i64>, raw: &str) -> TweetRow {
        TweetRow {
            tweet_id: id,
            user_id: None,
            created_at: None,
            text: None,
            lang: None,
            in_reply_to_status_id: None,
            retweeted_status_id: None,
            quoted_status_id: None,
            longitude: None,
            latitude: None,
            place: None,
            withheld_in_countries: Vec::new(),
            geo_scrubbed: false,
            located: false,
            raw: raw.into(),
            embedded: false,
            api: Api::V2,
            edit_initial_id: initial,
        }
    }

    #[test]
    fn only_edited_posts_have_a_history() {
        let raw = r#"{"id":"3","edit_history_tweet_ids":["1","2","3"]}"#;
        assert_eq!(edit_history(&row(3, Some(1), raw)), [1, 2, 3]);
        assert!(edit_history(&row(1, Some(1), r#"{"edit_history_tweet_ids":["1"]}"#)).is_empty());
        assert!(edit_history(&row(3, None, raw)).is_empty());
        assert_eq!(
            edit_history(&row(
                3,
                Some(1),
                r#"{"edit_history_tweet_ids":["1","x","3"]}"#
            )),
            [1, 3]
        );
        assert!(edit_history(&row(3, Some(1), "not json")).is_empty());
    }
}
