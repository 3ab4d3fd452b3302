//! One session's reading loop in steps: wait for what happens next (a stop, a reload, a
//! renewal, bytes, silence, the end), take it, and count what was read.

use super::session::Session;
use super::session::session_of;
use super::timing::deadline;
use super::{End, TopicsStream, frame_record};
use crate::metrics::StreamState;
use crate::pipeline::Chunk;
use crate::reconnect::Ending;
use crate::shutdown::{Control, stop_requested};
use crate::source::frames::FrameDecoder;
use crate::source::{ConnectionReport, describe};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::time::Duration;
use streamvault_core::ingest::IngestCounts;
use streamvault_core::record::Origin;
use streamvault_store::EndReason;
use tokio::sync::watch;
use tokio::time::Instant;

/// What a session's reading loop keeps from one wake-up to the next.
pub(super) struct Reading {
    id: i64,
    decoder: FrameDecoder,
    session: Option<Session>,
    /// The stall limit: the stream's stall timeout until the session names its heartbeat.
    silence: Duration,
    renew_at: Option<Instant>,
    /// Silence is measured from the last bytes received, not from the last wake-up: renewals
    /// and reloads wake the loop too, and must not postpone stall detection.
    last_bytes: Instant,
    records_sent: u64,
    bytes_reported: u64,
}

impl Reading {
    /// The state of connection `id` before its first byte.
    pub(super) fn new(id: i64, decoder: FrameDecoder, silence: Duration) -> Self {
        Reading {
            id,
            decoder,
            session: None,
            silence,
            renew_at: None,
            last_bytes: Instant::now(),
            records_sent: 0,
            bytes_reported: 0,
        }
    }

    /// The connection ended: what the decoder still holds becomes records.
    pub(super) fn abandon(&mut self, origin: &Origin, records: &mut Chunk) {
        self.decoder.abandon(&mut |frame| {
            if let Some(r) = frame_record(frame, origin, None) {
                records.push(r);
            }
        });
    }

    /// Counts `records` and the bytes read since the last count, for the stream's metrics.
    pub(super) fn count(&mut self, records: usize, state: &StreamState) {
        self.records_sent += records as u64;
        state.read(
            records as u64,
            self.decoder.counts().bytes - self.bytes_reported,
        );
        self.bytes_reported = self.decoder.counts().bytes;
    }

    /// The connection's report, once `end` says how it ended.
    pub(super) fn report(&self, end: Option<End>) -> ConnectionReport {
        let (ending, reason, detail) = end.unwrap_or((Ending::Eof, EndReason::Eof, None));
        let read = self.decoder.counts();
        ConnectionReport {
            ending,
            reason,
            http_status: None,
            disconnect_code: None,
            counts: IngestCounts {
                lines: self.records_sent + read.keepalives,
                bytes: read.bytes,
                keepalives: read.keepalives,
                rejects: read.rejects,
            },
            detail,
        }
    }
}

impl TopicsStream {
    /// Waits for what happens next to the session and takes it, gathering records into
    /// `records`; returns how the connection ended, if it did.
    pub(super) async fn next_event<B>(
        &mut self,
        r: &mut Reading,
        body: &mut Pin<&mut B>,
        control: &mut watch::Receiver<Control>,
        records: &mut Chunk,
    ) -> Option<End>
    where
        B: Stream<Item = reqwest::Result<Bytes>>,
    {
        let renew_at = r.renew_at;
        let renew = async move {
            match renew_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = stop_requested(control) => Some((Ending::Shutdown, EndReason::Shutdown, None)),
            changed = self.wanted.changed() => match changed {
                Ok(()) => self.apply_reload(r.id, r.session.as_ref(), records).await,
                Err(_) => None,
            },
            _ = renew => match &r.session {
                Some(s) => {
                    let end = self.renew(r.id, s, records).await;
                    r.renew_at = s.renew_every.map(|every| Instant::now() + every);
                    end
                }
                None => None,
            },
            next = tokio::time::timeout_at(deadline(r.last_bytes, r.silence), body.next()) => match next {
                Err(_) => Some((Ending::Stall, EndReason::Stall, Some(format!(
                    "no frame or heartbeat for {} ms", r.silence.as_millis()
                )))),
                Ok(None) => Some((Ending::Eof, EndReason::Eof, None)),
                Ok(Some(Err(e))) => Some((Ending::Network, EndReason::NetworkError, Some(describe(e)))),
                Ok(Some(Ok(bytes))) => {
                    self.take_bytes(r, &bytes, records);
                    None
                }
            },
        }
    }

    /// Bytes arrived: their frames become records; a `config` frame opens the session, which
    /// sets the stall limit from its heartbeat and the renewal timer from its TTL.
    fn take_bytes(&self, r: &mut Reading, bytes: &[u8], records: &mut Chunk) {
        r.last_bytes = Instant::now();
        let origin = self.origin(r.id);
        let mut opened = None;
        let mut current = r.session.as_ref().map(|s| s.id.clone());
        r.decoder.push(bytes, &mut |frame| {
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
            tracing::info!(stream = %self.name, connection_id = r.id, session = %s.id, ttl_ms = ?s.ttl.map(|t| t.as_millis()), "live session opened");
            r.silence = s.heartbeat.map_or(r.silence, |hb| self.silence_limit(hb));
            r.renew_at = s.renew_every.map(|every| Instant::now() + every);
            r.session = Some(s);
        }
    }
}
