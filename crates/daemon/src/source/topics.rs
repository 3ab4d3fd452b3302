//! The `topics` family: topic-based live sessions (tweet engagement, DM updates and typing).
//!
//! A session is one long GET with the topics comma-joined in a query parameter; its first
//! frame (`config`) names the session and says how long subscriptions live and how often the
//! server sends heartbeats. While the session lasts this client
//! - re-asserts every subscription at 0.8 × the TTL, so that topics never expire — but no
//!   more often than once a second and no less often than every 30 min, whatever the server says;
//! - applies topic changes from a reload with a subscription update (subscribe the new,
//!   unsubscribe the removed) — except new DM topics, which only a new session can take;
//! - treats silence longer than 3 × heartbeat as a stall, bounded below by 15 s (or the
//!   stream's `stall_timeout_secs` if smaller) and above by `stall_timeout_secs`, so that a
//!   huge heartbeat cannot turn stall detection off;
//! - opens a new session when the server says it no longer knows this one.
//!
//! Every frame but heartbeats is an `events` row; update answers are stored as
//! `subscriptions` events too, so the archive shows what the server accepted and refused.

use super::frames::{FrameDecoder, FrameOut};
use super::secrets::{self, Cookies};
use super::{ConnectionReport, SetupError, StreamSource, describe, http_client, request_headers};
use crate::config::StreamSettings;
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::shutdown::{Control, stop_requested};
use chrono::Utc;
use futures_util::StreamExt;
use reqwest::header::{COOKIE, HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::ingest::IngestCounts;
use streamvault_core::protocol::live::is_dm_topic;
use streamvault_core::record::{self, Detail, Origin, Record};
use streamvault_store::EndReason;
use timing::{RENEW_AT, SILENCE_FLOOR, deadline, millis, renew_interval, silence_limit};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

mod timing;

/// How long a subscription update may take.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10);

/// The client side of one configured topics stream.
pub struct TopicsStream {
    name: Arc<str>,
    settings: StreamSettings,
    client: reqwest::Client,
    headers: HeaderMap,
    /// The topics the configuration asks for (changed by reloads).
    wanted: watch::Receiver<Vec<String>>,
    /// The topics the current session holds.
    subscribed: Vec<String>,
    floor: Duration,
    /// Longest silence tolerated whatever the heartbeat: the stream's stall timeout.
    ceiling: Duration,
    max_line: usize,
    max_reject: usize,
}

/// The current session, from its `config` frame.
struct Session {
    id: String,
    ttl: Option<Duration>,
    /// How often subscriptions are re-asserted, from the TTL (see [`renew_interval`]).
    renew_every: Option<Duration>,
    heartbeat: Option<Duration>,
}

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
    /// Prepares the client of `settings` (the `index`-th `[[stream]]`); `wanted` carries the
    /// topics, updated on reload. Secrets are read now, so a missing file fails at start.
    pub fn new(
        index: usize,
        settings: &StreamSettings,
        wanted: watch::Receiver<Vec<String>>,
        max_line: usize,
        max_reject: usize,
    ) -> Result<Self, SetupError> {
        let token = secrets::bearer_token(settings, index)?;
        let mut headers = request_headers(index, settings, token.as_ref())?;
        if let Some(cookies) = secrets::cookies(settings, index)? {
            add_cookies(index, &mut headers, &cookies)?;
        }
        let subscribed = wanted.borrow().clone();
        Ok(TopicsStream {
            name: settings.name.as_str().into(),
            settings: settings.clone(),
            client: http_client()?,
            headers,
            subscribed,
            wanted,
            floor: SILENCE_FLOOR.min(Duration::from_secs(settings.stall_timeout_secs)),
            ceiling: Duration::from_secs(settings.stall_timeout_secs),
            max_line,
            max_reject,
        })
    }

    fn origin(&self, id: i64) -> Origin {
        Origin {
            stream: self.name.clone(),
            connection_id: Some(id),
            received_at: Utc::now(),
        }
    }

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
        let (body, cut) = super::read_capped(response, super::ANSWER_BYTES, UPDATE_TIMEOUT).await;
        if cut {
            tracing::warn!(stream = %self.name, limit_bytes = super::ANSWER_BYTES, "the subscription update's answer is longer than the limit: the rest was discarded");
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let lower = body.to_ascii_lowercase();
        if status == reqwest::StatusCode::NOT_FOUND
            || (lower.contains("session") && lower.contains("not found"))
        {
            return UpdateOutcome::SessionGone;
        }
        if !status.is_success() {
            let body =
                super::loggable(body.as_bytes(), &super::guard::known_secrets(&self.headers));
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
}

/// Cookie header and, from `ct0`, the CSRF header.
fn add_cookies(index: usize, headers: &mut HeaderMap, cookies: &Cookies) -> Result<(), SetupError> {
    let bad = || SetupError::Header {
        index,
        reason: "the cookies hold characters not allowed in a header".into(),
    };
    let mut value = HeaderValue::from_str(cookies.header_value().expose()).map_err(|_| bad())?;
    value.set_sensitive(true);
    headers.insert(COOKIE, value);
    if let Some(csrf) = cookies.csrf_token() {
        let mut value = HeaderValue::from_str(csrf.expose()).map_err(|_| bad())?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-csrf-token"), value);
    }
    Ok(())
}

/// How a session's reading loop ends.
type End = (Ending, EndReason, Option<String>);

impl StreamSource for TopicsStream {
    fn name(&self) -> &Arc<str> {
        &self.name
    }

    async fn connect(&self) -> Result<reqwest::Response, ConnectionReport> {
        let topics = self.wanted.borrow().join(",");
        let request = self
            .client
            .get(&self.settings.url)
            .query(&[(self.settings.topics_param.as_str(), topics.as_str())])
            .query(&self.settings.params)
            .headers(self.headers.clone());
        super::send(
            request,
            Duration::from_secs(self.settings.stall_timeout_secs),
        )
        .await
    }

    fn reconnects(&self) -> bool {
        self.settings.auto_reconnect
    }

    async fn read(
        &mut self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
        state: &StreamState,
    ) -> ConnectionReport {
        self.subscribed = self.wanted.borrow_and_update().clone();
        let mut body = std::pin::pin!(response.bytes_stream());
        let mut decoder = FrameDecoder::new(self.max_line, self.max_reject);
        let mut session: Option<Session> = None;
        let mut silence = Duration::from_secs(self.settings.stall_timeout_secs);
        let mut renew_at: Option<Instant> = None;
        // Silence is measured from the last bytes received, not from the last wake-up: renewals
        // and reloads wake the loop too, and must not postpone stall detection.
        let mut last_bytes = Instant::now();
        let mut records_sent = 0u64;
        let mut bytes_reported = 0u64;
        let mut end: Option<End> = None;
        while end.is_none() {
            let mut records = Chunk::new();
            let renew = async {
                match renew_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = stop_requested(control) => {
                    end = Some((Ending::Shutdown, EndReason::Shutdown, None));
                }
                changed = self.wanted.changed() => {
                    if changed.is_ok() {
                        end = self.apply_reload(id, session.as_ref(), &mut records).await;
                    }
                }
                _ = renew => {
                    if let Some(s) = &session {
                        end = self.renew(id, s, &mut records).await;
                        renew_at = s.renew_every.map(|every| Instant::now() + every);
                    }
                }
                next = tokio::time::timeout_at(deadline(last_bytes, silence), body.next()) => match next {
                    Err(_) => {
                        end = Some((Ending::Stall, EndReason::Stall, Some(format!(
                            "no frame or heartbeat for {} ms", silence.as_millis()
                        ))));
                    }
                    Ok(None) => end = Some((Ending::Eof, EndReason::Eof, None)),
                    Ok(Some(Err(e))) => {
                        end = Some((Ending::Network, EndReason::NetworkError, Some(describe(e))));
                    }
                    Ok(Some(Ok(bytes))) => {
                        last_bytes = Instant::now();
                        let origin = self.origin(id);
                        let mut opened = None;
                        let mut current = session.as_ref().map(|s| s.id.clone());
                        decoder.push(&bytes, &mut |frame| {
                            let Some(record) = frame_record(frame, &origin, current.as_deref()) else {
                                return;
                            };
                            if let Some(s) = session_of(&record) {
                                current = Some(s.id.clone());
                                opened = Some(s);
                            }
                            records.push(record);
                        });
                        if let Some(s) = opened {
                            tracing::info!(stream = %self.name, connection_id = id, session = %s.id, ttl_ms = ?s.ttl.map(|t| t.as_millis()), "live session opened");
                            silence = s.heartbeat.map_or(silence, |hb| self.silence_limit(hb));
                            renew_at = s.renew_every.map(|every| Instant::now() + every);
                            session = Some(s);
                        }
                    }
                },
            }
            if end.is_some() {
                let origin = self.origin(id);
                decoder.abandon(&mut |frame| {
                    if let Some(r) = frame_record(frame, &origin, None) {
                        records.push(r);
                    }
                });
            }
            records_sent += records.len() as u64;
            state.read(
                records.len() as u64,
                decoder.counts().bytes - bytes_reported,
            );
            bytes_reported = decoder.counts().bytes;
            if !records.is_empty() && sender.send(records).await.is_err() {
                end.get_or_insert((Ending::Shutdown, EndReason::Shutdown, None));
            }
        }
        let (ending, reason, detail) = end.unwrap_or((Ending::Eof, EndReason::Eof, None));
        let read = decoder.counts();
        ConnectionReport {
            ending,
            reason,
            http_status: None,
            disconnect_code: None,
            counts: IngestCounts {
                lines: records_sent + read.keepalives,
                bytes: read.bytes,
                keepalives: read.keepalives,
                rejects: read.rejects,
            },
            detail,
        }
    }
}

impl TopicsStream {
    /// The configuration's topics changed: update the live session, or end it when new DM
    /// topics need a new one.
    async fn apply_reload(
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
    async fn renew(&mut self, id: i64, session: &Session, records: &mut Chunk) -> Option<End> {
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

/// The session a `config` frame opens.
fn session_of(record: &Record) -> Option<Session> {
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
    fn silence_limit(&self, heartbeat: Duration) -> Duration {
        let limit = silence_limit(heartbeat, self.floor, self.ceiling);
        if heartbeat.saturating_mul(3) > self.ceiling {
            tracing::warn!(stream = %self.name, heartbeat_ms = heartbeat.as_millis(), stall_after_ms = limit.as_millis(), "the server's heartbeat is longer than stall_timeout_secs allows: a stall is still declared after stall_timeout_secs (raise it if the server really beats this slowly)");
        }
        limit
    }
}

/// A frame's record; `None` for heartbeats.
fn frame_record(frame: FrameOut<'_>, origin: &Origin, session: Option<&str>) -> Option<Record> {
    match frame {
        FrameOut::Frame(text) => {
            streamvault_core::ingest::decode_contained(text.as_bytes(), origin, |_, o| {
                record::from_live_frame(text, o, session)
            })
        }
        FrameOut::Heartbeat => None,
        FrameOut::Invalid { raw, reason } => Some(record::reject(raw, origin, &reason)),
    }
}
