//! The `v2` family: X API v2 Post streams (filtered, sample, sample10, firehose), one
//! connection per partition, read as lines like the v1.1 family, with what v2 adds:
//!
//! - the field and expansion parameters (defaults that fill every typed column), `partition`,
//!   and `backfill_minutes` on a reconnect, covering the gap since the last byte read;
//! - in-stream `operational-disconnect` problems ending the connection, and refused
//!   connections read from their problem body (`TooManyConnections`, `usage-capped`, a refused
//!   backfill), both mapped onto the reconnect policy by [`problems`];
//! - the filtered stream's rules, kept as configuration by [`rules`].

pub mod problems;
pub mod rules;

use super::ndjson::{LineReader, MessageEnding};
use super::{ConnectionReport, SetupError, StreamSource, http_client, request_headers, secrets};
use crate::config::StreamSettings;
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::shutdown::Control;
use chrono::Utc;
use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use streamvault_core::protocol::v2::parse_problem_body;
use streamvault_core::record::Detail;
use streamvault_core::record::Record;
use streamvault_store::EndReason;
use tokio::sync::{mpsc, watch};

/// The client side of one partition (or the whole, where there are none) of a v2 stream.
pub struct V2Stream {
    /// What its connections are logged and claimed under: the name, or `NAME#P` for partition
    /// P (each partition is a connection of its own, held by one daemon at a time).
    log_name: Arc<str>,
    /// The `backfill_minutes` the last request asked for (0: none), for the connection log.
    asked_backfill: std::sync::atomic::AtomicU8,
    settings: StreamSettings,
    partition: Option<u32>,
    client: reqwest::Client,
    headers: HeaderMap,
    lines: LineReader,
    /// When the last byte of the previous connection arrived: the gap a backfill covers.
    last_read: Arc<Mutex<Option<Instant>>>,
    /// The server refused `backfill_minutes` (an access level without it): never asked again.
    backfill_refused: AtomicBool,
}

impl V2Stream {
    /// Prepares the client of `settings` (the `index`-th `[[stream]]`) for `partition`: reads
    /// its token now, so that a missing secret fails at start with the key named.
    pub fn new(
        index: usize,
        settings: &StreamSettings,
        partition: Option<u32>,
        max_line: usize,
        max_reject: usize,
    ) -> Result<Self, SetupError> {
        let token = secrets::bearer_token(settings, index)?;
        let headers = request_headers(index, settings, token.as_ref())?;
        let name: Arc<str> = settings.name.as_str().into();
        let log_name = match partition {
            Some(p) => format!("{name}#{p}").into(),
            None => name.clone(),
        };
        Ok(V2Stream {
            log_name,
            asked_backfill: std::sync::atomic::AtomicU8::new(0),
            lines: LineReader {
                name,
                stall_timeout: settings.stall_timeout(),
                max_line,
                max_reject,
            },
            settings: settings.clone(),
            partition,
            client: http_client()?,
            headers,
            last_read: Arc::new(Mutex::new(None)),
            backfill_refused: AtomicBool::new(false),
        })
    }

    /// The rules endpoint of this stream, with its client and credentials.
    pub fn rules_endpoint(&self) -> rules::RulesEndpoint {
        rules::RulesEndpoint {
            client: self.client.clone(),
            headers: self.headers.clone(),
            url: self.settings.effective_rules_url(),
        }
    }

    /// The `backfill_minutes` to ask for now: the time since the last byte read, rounded up to
    /// whole minutes, at most the configured maximum; none on the first connection, when
    /// backfill is off, or once the server refused it.
    fn backfill_minutes(&self) -> Option<u8> {
        let max = self.settings.effective_backfill_minutes();
        if max == 0 || self.backfill_refused.load(Ordering::Relaxed) {
            return None;
        }
        let last = (*self.last_read.lock().ok()?)?;
        Some(minutes_to_cover(last.elapsed(), max))
    }

    /// Reads a refused connection's body: a problem the policy reads differently from the
    /// status, or a refused `backfill_minutes` (noted; the next attempt goes without it).
    fn reinterpret(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        asked_backfill: bool,
    ) -> Option<(Ending, String)> {
        // X names the refused parameter in the body (`{"errors":[{"parameters":
        // {"backfill_minutes":[...]},...}],"type":".../invalid-request"}`).
        let backfill_refused = status == 400
            && asked_backfill
            && String::from_utf8_lossy(body).contains("backfill_minutes");
        if backfill_refused {
            if !self.backfill_refused.swap(true, Ordering::Relaxed) {
                tracing::warn!(stream = %self.log_name, "the server refuses backfill_minutes (not available at this access level): reconnecting without it; gaps after a disconnection will not be recovered");
            }
            return Some((
                Ending::Network,
                "backfill_minutes refused: reconnecting without it".into(),
            ));
        }
        let reset = reset_header(headers);
        parse_problem_body(body)?
            .iter()
            .find_map(|p| problems::refusal_ending(p, Utc::now(), reset))
    }
}

/// The whole minutes that cover `gap`: at least 1, at most `max`.
fn minutes_to_cover(gap: Duration, max: u8) -> u8 {
    let minutes = gap.as_secs().div_ceil(60).max(1);
    u8::try_from(minutes).unwrap_or(u8::MAX).min(max)
}

/// `x-rate-limit-reset` as a wait from now, uncapped (a usage cap may last days).
fn reset_header(headers: &HeaderMap) -> Option<Duration> {
    let at = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()?;
    let secs = at.saturating_sub(Utc::now().timestamp());
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

impl StreamSource for V2Stream {
    fn name(&self) -> &Arc<str> {
        &self.log_name
    }

    fn backfill_asked(&self) -> Option<u8> {
        Some(self.asked_backfill.load(Ordering::Relaxed))
    }

    async fn connect(&self) -> Result<reqwest::Response, ConnectionReport> {
        let mut params: Vec<(String, String)> = self.settings.v2_params().into_iter().collect();
        if let Some(p) = self.partition {
            params.push(("partition".into(), p.to_string()));
        }
        let backfill = self.backfill_minutes();
        self.asked_backfill
            .store(backfill.unwrap_or(0), Ordering::Relaxed);
        if let Some(minutes) = backfill {
            params.push(("backfill_minutes".into(), minutes.to_string()));
            tracing::info!(stream = %self.log_name, backfill_minutes = minutes, "asking the server to backfill the gap");
        }
        let request = self
            .client
            .get(&self.settings.url)
            .query(&params)
            .headers(self.headers.clone());
        super::send_then(
            request,
            self.lines.stall_timeout,
            |status, headers, body| self.reinterpret(status, headers, body, backfill.is_some()),
        )
        .await
    }

    async fn read(
        &mut self,
        id: i64,
        response: reqwest::Response,
        sender: &mpsc::Sender<Chunk>,
        control: &mut watch::Receiver<Control>,
        state: &StreamState,
    ) -> ConnectionReport {
        let report = self
            .lines
            .read(id, response, sender, control, state, problem_ending)
            .await;
        if let Ok(mut last) = self.last_read.lock() {
            // The server delivered up to now (keep-alives included) unless the read stalled.
            let silent = matches!(report.ending, Ending::Stall).then_some(self.lines.stall_timeout);
            *last = Some(Instant::now() - silent.unwrap_or_default());
        }
        report
    }
}

/// An in-stream `operational-disconnect` (a disconnect without a code, named by its type)
/// ends the connection, as the policy reads its type.
fn problem_ending(record: &Record, state: &StreamState) -> Option<MessageEnding> {
    let Record::Message(m) = record else {
        return None;
    };
    let Detail::Disconnect {
        code: None,
        code_name,
        ..
    } = &m.detail
    else {
        return None;
    };
    let kind = code_name.as_deref().unwrap_or("");
    state.note_v2_disconnect(kind);
    let (ending, note) = problems::in_stream_ending(kind);
    Some(MessageEnding {
        ending: Ending::Problem(ending),
        reason: EndReason::DisconnectMessage,
        code: None,
        detail: Some(format!("{kind}: {note}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_is_covered_in_whole_minutes_up_to_the_maximum() {
        assert_eq!(minutes_to_cover(Duration::from_millis(10), 5), 1);
        assert_eq!(minutes_to_cover(Duration::from_secs(60), 5), 1);
        assert_eq!(minutes_to_cover(Duration::from_secs(61), 5), 2);
        assert_eq!(minutes_to_cover(Duration::from_secs(3600), 5), 5);
        assert_eq!(minutes_to_cover(Duration::from_secs(u64::MAX), 3), 3);
    }
}
