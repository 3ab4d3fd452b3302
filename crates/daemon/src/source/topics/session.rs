//! The live session a `config` frame opens, and the stall limit its heartbeat sets.

use super::TopicsStream;
use super::timing::{RENEW_AT, millis, renew_interval, silence_limit};
use std::time::Duration;
use streamvault_core::record::{Detail, Record};

/// The current session, from its `config` frame.
pub(super) struct Session {
    pub id: String,
    pub ttl: Option<Duration>,
    /// How often subscriptions are re-asserted, from the TTL (see [`renew_interval`]).
    pub renew_every: Option<Duration>,
    pub heartbeat: Option<Duration>,
}

/// The session a `config` frame opens.
pub(super) fn session_of(record: &Record) -> Option<Session> {
    let Record::Message(m) = record else {
        return None;
    };
    match &m.detail {
        Detail::LiveConfig {
            session_id,
            subscription_ttl_millis,
            heartbeat_millis,
        } => Some(Session {
            id: session_id.clone(),
            ttl: subscription_ttl_millis.and_then(millis),
            renew_every: subscription_ttl_millis.and_then(millis).map(|ttl| {
                let every = renew_interval(ttl);
                if Duration::try_from_secs_f64(ttl.as_secs_f64() * RENEW_AT).ok() != Some(every) {
                    tracing::warn!(session = %session_id, ttl_ms = ttl.as_millis(), renew_every_ms = every.as_millis(), "the server's subscription TTL is out of bounds: renewing at the bound");
                }
                every
            }),
            heartbeat: heartbeat_millis.and_then(millis),
        }),
        _ => None,
    }
}

impl TopicsStream {
    /// The stall limit of a session whose server beats every `heartbeat`; a heartbeat too
    /// long for the stream's stall timeout is logged, and the stall timeout wins.
    pub(super) fn silence_limit(&self, heartbeat: Duration) -> Duration {
        let limit = silence_limit(heartbeat, self.floor, self.ceiling);
        if heartbeat.saturating_mul(3) > self.ceiling {
            tracing::warn!(stream = %self.name, heartbeat_ms = heartbeat.as_millis(), stall_after_ms = limit.as_millis(), "the server's heartbeat is longer than stall_timeout_secs allows: a stall is still declared after stall_timeout_secs (raise it if the server really beats this slowly)");
        }
        limit
    }
}
