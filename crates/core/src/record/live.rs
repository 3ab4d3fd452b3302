//! Records from live-session frames: engagement samples, DM activity and session config.

use super::{Detail, MessageRecord, Origin, Record, reject};
use crate::protocol;

/// Turns one live-session frame (its JSON text) into a record; `None` for heartbeats.
/// `session_id` is the session the frame arrived in, recorded with samples and DM activity.
pub fn from_live_frame(text: &str, origin: &Origin, session_id: Option<&str>) -> Option<Record> {
    use protocol::live::{LivePayload, parse_frame};
    let frame = match parse_frame(text) {
        Ok(frame) => frame,
        Err(err) => return Some(reject(text.as_bytes(), origin, &err)),
    };
    let kind = frame.kind()?;
    let session = || session_id.map(str::to_owned);
    let (tweet_id, detail) = match frame.payload {
        LivePayload::Config {
            session_id,
            subscription_ttl_millis,
            heartbeat_millis,
        } => (
            None,
            Detail::LiveConfig {
                session_id,
                subscription_ttl_millis,
                heartbeat_millis,
            },
        ),
        LivePayload::TweetEngagement(sample) => (
            sample.tweet_id,
            match sample.tweet_id {
                Some(_) => Detail::Engagement {
                    sample,
                    session_id: session(),
                },
                None => Detail::None, // no tweet to attach the counts to; the event keeps them
            },
        ),
        LivePayload::Dm {
            typing,
            conversation_id,
            user_id,
        } => (
            None,
            Detail::Dm {
                typing,
                conversation_id,
                user_id,
                session_id: session(),
            },
        ),
        LivePayload::Subscriptions { .. } | LivePayload::Unknown | LivePayload::Heartbeat => {
            (None, Detail::None)
        }
    };
    Some(Record::Message(Box::new(MessageRecord {
        origin: origin.clone(),
        kind,
        for_user: None,
        tweet_id,
        raw: Some(text.to_owned()),
        tweets: Vec::new(),
        users: Vec::new(),
        detail,
        matches: Vec::new(),
    })))
}
