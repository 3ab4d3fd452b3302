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
//!
//! Here the client and its connection; the reading loop's steps in `read.rs`, the session and
//! its stall limit in `session.rs`, subscription updates in `update.rs`, the bounds of renewals
//! and stall detection in `timing.rs`.

use super::frames::{FrameDecoder, FrameOut};
use super::secrets::{self, Cookies};
use super::{ConnectionReport, SetupError, StreamSource, http_client, request_headers};
use crate::config::StreamSettings;
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::shutdown::Control;
use chrono::Utc;
use read::Reading;
use reqwest::header::{COOKIE, HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use streamvault_core::record::{self, Origin, Record};
use streamvault_store::EndReason;
use timing::SILENCE_FLOOR;
use tokio::sync::{mpsc, watch};

mod read;
mod session;
mod timing;
mod update;

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
            floor: SILENCE_FLOOR.min(settings.stall_timeout()),
            ceiling: settings.stall_timeout(),
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
        super::send(request, self.settings.stall_timeout()).await
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
        let decoder = FrameDecoder::new(self.max_line, self.max_reject);
        let silence = self.settings.stall_timeout();
        let mut reading = Reading::new(id, decoder, silence);
        let mut end: Option<End> = None;
        while end.is_none() {
            let mut records = Chunk::new();
            end = self
                .next_event(&mut reading, &mut body, control, &mut records)
                .await;
            if end.is_some() {
                reading.abandon(&self.origin(id), &mut records);
            }
            reading.count(records.len(), state);
            if !records.is_empty() && sender.send(records).await.is_err() {
                end.get_or_insert((Ending::Shutdown, EndReason::Shutdown, None));
            }
        }
        reading.report(end)
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
