//! The `direct_messages` row of a received direct message.
//!
//! A direct message's content lives in this row only (its `events` row keeps the id and a NULL
//! `raw`, as a status's does), so a direct-message delete erases it in one place.

use super::parse_twitter_time;
use crate::protocol::DirectMessage;
use chrono::{DateTime, Utc};

/// A `direct_messages` row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DmRow {
    pub dm_id: i64,
    pub sender_id: Option<i64>,
    pub recipient_id: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub text: Option<String>,
    /// The `direct_message` object as received.
    pub raw: String,
}

impl DmRow {
    /// Copies what the archive keeps out of the borrowed message.
    pub fn new(dm: &DirectMessage<'_>) -> DmRow {
        DmRow {
            dm_id: dm.id,
            sender_id: dm.sender_id,
            recipient_id: dm.recipient_id,
            created_at: dm.created_at.as_deref().and_then(parse_twitter_time),
            text: dm.text.as_deref().map(Into::into),
            raw: dm.raw.to_owned(),
        }
    }
}
