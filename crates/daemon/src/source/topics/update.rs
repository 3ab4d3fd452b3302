//! Subscription updates: topics changed by a reload, subscriptions renewed before their TTL,
//! and the server's answers kept as `subscriptions` events.

use super::session::Session;
use super::{End, TopicsStream, frame_record};
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::source::describe;
use crate::source::frames::FrameOut;
use reqwest::header::{HeaderName, HeaderValue};
use std::time::Duration;
use streamvault_core::protocol::live::is_dm_topic;
use streamvault_core::record::Record;
use streamvault_store::EndReason;

/// How long a subscription update may take.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a subscription update came to.
enum UpdateOutcome {
    /// Accepted (possibly with errors for some topics); the answer's JSON.
    Answered { errors: Vec<String>, body: String },
    /// The server no longer knows the session: a new one is needed.
    SessionGone,
    /// The update failed; the session goes on.
    Failed(String),
}

impl TopicsStream {
    /// POSTs a subscription update for `session`.
    async fn update(&self, session: &str, sub: &[String], unsub: &[String]) -> UpdateOutcome {
        let Some(url) = &self.settings.update_url else {
            return UpdateOutcome::Failed("no update_url is configured".into());
        };
        let mut headers = self.headers.clone();
        match HeaderValue::from_str(session) {
            Ok(v) => {
                headers.insert(HeaderName::from_static("livepipeline-session"), v);
            }
            Err(_) => return UpdateOutcome::Failed("the session id is not a valid header".into()),
        }
        let form = [
            ("sub_topics", sub.join(",")),
            ("unsub_topics", unsub.join(",")),
        ];
        let request = self.client.post(url).headers(headers).form(&form).send();
        let response = match tokio::time::timeout(UPDATE_TIMEOUT, request).await {
            Err(_) => return UpdateOutcome::Failed("no answer within 10 s".into()),
            Ok(Err(e)) => return UpdateOutcome::Failed(describe(e)),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let (body, cut) =
            crate::source::read_capped(response, crate::source::ANSWER_BYTES, UPDATE_TIMEOUT).await;
        if cut {
            tracing::warn!(stream = %self.name, limit_bytes = crate::source::ANSWER_BYTES, "the subscription update's answer is longer than the limit: the rest was discarded");
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let lower = body.to_ascii_lowercase();
        if status == reqwest::StatusCode::NOT_FOUND
            || (lower.contains("session") && lower.contains("not found"))
        {
            return UpdateOutcome::SessionGone;
        }
        if !status.is_success() {
            let body = crate::source::loggable(
                body.as_bytes(),
                &crate::source::guard::known_secrets(&self.headers),
            );
            return UpdateOutcome::Failed(format!("HTTP {status}{body}"));
        }
        let errors = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("subscriptions")?.get("errors").cloned())
            .and_then(|e| e.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect();
        UpdateOutcome::Answered { errors, body }
    }

    /// Stores an update's answer as a `subscriptions` event (when it is JSON).
    fn answer_record(&self, id: i64, body: &str) -> Option<Record> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        if !value.is_object() {
            return None;
        }
        let frame =
            serde_json::json!({"topic": "/system/subscriptions", "payload": value}).to_string();
        frame_record(FrameOut::Frame(&frame), &self.origin(id), None)
    }

    /// The configuration's topics changed: update the live session, or end it when new DM
    /// topics need a new one.
    pub(super) async fn apply_reload(
        &mut self,
        id: i64,
        session: Option<&Session>,
        records: &mut Chunk,
    ) -> Option<End> {
        let wanted = self.wanted.borrow_and_update().clone();
        let added: Vec<String> = wanted
            .iter()
            .filter(|t| !self.subscribed.contains(t))
            .cloned()
            .collect();
        let removed: Vec<String> = self
            .subscribed
            .iter()
            .filter(|t| !wanted.contains(t))
            .cloned()
            .collect();
        if added.is_empty() && removed.is_empty() {
            return None;
        }
        let Some(session) = session else {
            // No session yet: the next one opens with the new topics.
            return Some((
                Ending::Shutdown,
                EndReason::Reload,
                Some("topics changed before the session opened".into()),
            ));
        };
        if let Some(dm) = added.iter().find(|t| is_dm_topic(t)) {
            tracing::warn!(stream = %self.name, topic = %dm, "DM topics cannot be added to a live session: opening a new session with the new topics");
            return Some((
                Ending::Shutdown,
                EndReason::Reload,
                Some(format!("new DM topic {dm} needs a new session")),
            ));
        }
        match self.update(&session.id, &added, &removed).await {
            UpdateOutcome::Answered { errors, body } => {
                tracing::info!(stream = %self.name, session = %session.id, ?added, ?removed, ?errors, "subscriptions updated");
                records.extend(self.answer_record(id, &body));
                self.subscribed = wanted;
                None
            }
            UpdateOutcome::SessionGone => Some(session_gone()),
            UpdateOutcome::Failed(why) => {
                tracing::warn!(stream = %self.name, session = %session.id, error = %why, "subscription update failed: opening a new session with the new topics");
                Some((Ending::Shutdown, EndReason::Reload, Some(why)))
            }
        }
    }

    /// Re-asserts every subscription before its TTL runs out.
    pub(super) async fn renew(
        &mut self,
        id: i64,
        session: &Session,
        records: &mut Chunk,
    ) -> Option<End> {
        let topics = self.subscribed.clone();
        match self.update(&session.id, &topics, &[]).await {
            UpdateOutcome::Answered { errors, body } => {
                if errors.is_empty() {
                    tracing::debug!(stream = %self.name, session = %session.id, "subscriptions renewed");
                } else {
                    tracing::warn!(stream = %self.name, session = %session.id, ?errors, "subscriptions renewed with errors");
                }
                records.extend(self.answer_record(id, &body));
                None
            }
            UpdateOutcome::SessionGone => Some(session_gone()),
            UpdateOutcome::Failed(why) => {
                tracing::warn!(stream = %self.name, session = %session.id, error = %why, "renewing subscriptions failed; trying again at the next renewal");
                None
            }
        }
    }
}

fn session_gone() -> End {
    (
        Ending::Eof,
        EndReason::Eof,
        Some("the server no longer knows the session: opening a new one".into()),
    )
}
