//! Runs one topics session's script into its body: the config frame first, the refused topics
//! next, then each step's frames, events paced at the connection's rate over the session's live
//! subscriptions, with heartbeats in every silence longer than `heartbeat_millis`.

use super::body::{BodyWriter, End};
use super::frames;
use super::lines;
use super::pace::{Pacer, deadline};
use super::registry::{Registry, Tally};
use super::scenario::{Amount, LiveFormat, Step};
use super::topic::TopicError;
use super::traffic::Traffic;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Largest body chunk of events: small enough that "sent" is never far behind the client.
const CHUNK_BYTES: usize = 64 * 1024;
/// How often a session without live subscriptions looks again (an update may add some).
const TOPIC_POLL: Duration = Duration::from_millis(20);
/// Writes per second of a `trickle` step.
const TRICKLE_WRITES_PER_SEC: u64 = 10;
/// The topic of frames that need one when the session has no live subscription.
const FALLBACK_TOPIC: &str = "/system/unknown";

/// What a session's runner needs besides its steps, body and stats.
pub(crate) struct LiveRun {
    /// The session's id, announced in the config frame.
    pub session_id: String,
    /// The requested topics that were refused, announced right after the config frame.
    pub open_errors: Vec<TopicError>,
    /// Framing of every frame and heartbeat.
    pub format: LiveFormat,
    /// Announced in the config frame; subscriptions expire after it.
    pub ttl_millis: u64,
    /// Announced in the config frame; the longest silence before a heartbeat.
    pub heartbeat: Duration,
    /// Events per second; 0 = unpaced.
    pub rate: f64,
    /// The session's events.
    pub traffic: Traffic,
}

/// Runs `steps` into `writer` after the session's opening frames, then records in the stats how
/// the request (and with it the session) ended.
#[tracing::instrument(skip_all, fields(index = index, session = %run.session_id))]
pub(crate) async fn run(
    run: LiveRun,
    steps: Vec<Step>,
    writer: BodyWriter,
    registry: Arc<Registry>,
    index: usize,
) {
    let mut runner = Runner {
        pacer: Pacer::new(run.rate),
        run,
        writer,
        registry,
        index,
    };
    tracing::debug!(steps = steps.len(), "simulated session started");
    let mut end = match runner.open().await {
        Ok(()) => End::Eof,
        Err(ended) => ended,
    };
    if end == End::Eof {
        for step in &steps {
            if let Err(ended) = runner.step(step).await {
                end = ended;
                break;
            }
        }
    }
    runner
        .writer
        .conclude(end, &runner.registry, index, "session")
        .await;
}

struct Runner {
    run: LiveRun,
    writer: BodyWriter,
    pacer: Pacer,
    registry: Arc<Registry>,
    index: usize,
}

impl Runner {
    /// The config frame, then the subscriptions frame when some topics were refused.
    async fn open(&mut self) -> Result<(), End> {
        let run = &self.run;
        let heartbeat_millis = u64::try_from(run.heartbeat.as_millis()).unwrap_or(u64::MAX);
        let config = frames::config(&run.session_id, run.ttl_millis, heartbeat_millis);
        self.frame(&config, "config").await?;
        if !self.run.open_errors.is_empty() {
            let errors = frames::subscriptions(&self.run.open_errors);
            self.frame(&errors, "subscriptions").await?;
        }
        Ok(())
    }

    /// Runs one step. `Err` is how the connection ends, a scripted clean end (`Eof`) included.
    async fn step(&mut self, step: &Step) -> Result<(), End> {
        match step {
            Step::Send(amount) | Step::Live(amount) => self.live(*amount).await,
            // Answered instead of a stream before the runner started.
            Step::Http { .. } => Ok(()),
            Step::Reset { mid_line } => {
                if *mid_line {
                    self.half_frame().await?;
                }
                self.writer.arm_reset().await?;
                Err(End::Reset)
            }
            Step::Stall(period) => self.writer.pause(deadline(*period), None).await,
            Step::Idle(period) => {
                let heartbeat = Some(self.run.heartbeat);
                self.writer.pause(deadline(*period), heartbeat).await
            }
            Step::Keepalive(count) => self.heartbeats(*count).await,
            Step::Trickle {
                count,
                bytes_per_sec,
            } => self.trickle(*count, *bytes_per_sec).await,
            Step::Oversize(bytes) => self.frame(&frames::oversize(*bytes), "oversize").await,
            Step::Malformed(count) => self.repeat(*count, "malformed").await,
            Step::UnknownPayload(count) => self.repeat(*count, "unknown").await,
            Step::ForgetSession => {
                self.registry.forget_session(self.index);
                Ok(())
            }
            Step::SubscriptionsEvent => {
                let frame = frames::subscriptions(&[]);
                self.frame(&frame, "subscriptions").await
            }
            Step::Close => Err(End::Eof),
            Step::Unterminated(bytes) => {
                self.writer.unterminated(b"data: ", *bytes).await?;
                Err(End::Eof)
            }
            // Refused before the runner started (see `Step::fits_topics`).
            Step::File(_)
            | Step::Disconnect { .. }
            | Step::Warning { .. }
            | Step::Hostile { .. }
            | Step::Raw(_)
            | Step::OperationalDisconnect { .. }
            | Step::UsageCapped { .. } => Err(End::Error(format!(
                "a `{}` step has no meaning on a topics session",
                step.kind()
            ))),
        }
    }

    /// `amount` events over the live subscriptions, as many per chunk as the pace allows;
    /// without a live subscription, heartbeats until an update brings one.
    async fn live(&mut self, amount: Amount) -> Result<(), End> {
        let mut left = amount.events();
        self.pacer.restart();
        while left > 0 {
            let due = self.pace().await?;
            let topics = self.wait_for_topics().await?;
            let mut out = Vec::new();
            let mut tally = Tally::default();
            let mut events = 0;
            while events < left.min(due) && out.len() < CHUNK_BYTES {
                self.event(&topics, &mut out, &mut tally)?;
                events += 1;
            }
            self.writer.offer(out, &tally).await?;
            self.pacer.consumed(events);
            left -= events;
        }
        Ok(())
    }

    /// Appends one framed event on one of `topics` to `out`, counted in `tally`.
    fn event(
        &mut self,
        topics: &[String],
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> Result<(), End> {
        let topic = self.run.traffic.pick(topics).unwrap_or(FALLBACK_TOPIC);
        let (kind, json) = self.run.traffic.event(topic).map_err(End::Error)?;
        frames::push(self.run.format, &json, out);
        tally.event(kind.payload_key(), topic);
        Ok(())
    }

    /// The live subscriptions, once there is at least one; heartbeats meanwhile.
    async fn wait_for_topics(&mut self) -> Result<Vec<String>, End> {
        let mut waited = false;
        loop {
            let topics = self.registry.live_topics(self.index);
            if !topics.is_empty() {
                if waited {
                    self.pacer.restart();
                }
                return Ok(topics);
            }
            waited = true;
            let heartbeat = Some(self.run.heartbeat);
            let until = Some(Instant::now() + TOPIC_POLL);
            self.writer.pause(until, heartbeat).await?;
        }
    }

    /// Waits until at least one event is due, with heartbeats in a long silence; returns how
    /// many are due.
    async fn pace(&mut self) -> Result<u64, End> {
        loop {
            let due = self.pacer.due(Instant::now());
            if due > 0 {
                return Ok(due);
            }
            let heartbeat = Some(self.run.heartbeat);
            let until = Some(self.pacer.next_due);
            self.writer.pause(until, heartbeat).await?;
        }
    }

    /// One frame of our own.
    async fn frame(&mut self, json: &[u8], kind: &'static str) -> Result<(), End> {
        let mut out = Vec::with_capacity(json.len() + 8);
        frames::push(self.run.format, json, &mut out);
        let mut tally = Tally::default();
        tally.frame(kind);
        self.writer.write(out, &tally).await
    }

    /// `count` malformed or unknown-payload frames, in as few chunks as possible.
    async fn repeat(&mut self, count: u64, kind: &'static str) -> Result<(), End> {
        let topics = self.registry.live_topics(self.index);
        let mut n = 0;
        while n < count {
            let mut out = Vec::new();
            let mut tally = Tally::default();
            while n < count && out.len() < CHUNK_BYTES {
                let json = if kind == "malformed" {
                    lines::malformed(n)
                } else {
                    let topic = self.run.traffic.pick(&topics).unwrap_or(FALLBACK_TOPIC);
                    frames::unknown(topic, n)
                };
                frames::push(self.run.format, &json, &mut out);
                tally.frame(kind);
                n += 1;
            }
            self.writer.write(out, &tally).await?;
        }
        Ok(())
    }

    /// `count` heartbeats in one write.
    async fn heartbeats(&mut self, count: u64) -> Result<(), End> {
        let mut out = Vec::new();
        let mut tally = Tally::default();
        for _ in 0..count {
            out.extend_from_slice(frames::heartbeat(self.run.format));
            tally.keepalive();
        }
        self.writer.write(out, &tally).await
    }

    /// The first half of an event frame, without its end: what a reset leaves behind.
    async fn half_frame(&mut self) -> Result<(), End> {
        let topics = self.registry.live_topics(self.index);
        let mut frame = Vec::new();
        if topics.is_empty() {
            frames::push(
                self.run.format,
                &frames::unknown(FALLBACK_TOPIC, 0),
                &mut frame,
            );
        } else {
            self.event(&topics, &mut frame, &mut Tally::default())?;
        }
        frame.truncate(frame.len().div_ceil(2));
        let tally = Tally::partial(frame.len() as u64);
        self.writer.write(frame, &tally).await
    }

    /// `count` events written a few bytes at a time, at `bytes_per_sec` overall.
    async fn trickle(&mut self, count: u64, bytes_per_sec: u64) -> Result<(), End> {
        let piece = (bytes_per_sec / TRICKLE_WRITES_PER_SEC).clamp(1, 64 * 1024);
        let gap = Duration::from_secs_f64(piece as f64 / bytes_per_sec as f64);
        for _ in 0..count {
            let topics = self.wait_for_topics().await?;
            let mut frame = Vec::new();
            let mut tally = Tally::default();
            self.event(&topics, &mut frame, &mut tally)?;
            let mut pieces = frame.chunks(piece as usize).peekable();
            while let Some(chunk) = pieces.next() {
                // The frame counts once its last piece, holding its end, is taken.
                let counted = match pieces.peek() {
                    Some(_) => Tally::default(),
                    None => std::mem::take(&mut tally),
                };
                self.writer.write(chunk.to_vec(), &counted).await?;
                self.writer.sleep(gap).await?;
            }
        }
        Ok(())
    }
}
